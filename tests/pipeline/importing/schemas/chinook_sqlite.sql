-- A music store in SQLite, shaped like the Chinook sample: employees report to employees,
-- invoices, a playlist/track bridge with a composite key, loose SQLite typing and CHECKs.
PRAGMA foreign_keys = ON;

CREATE TABLE artists (
    artist_id INTEGER PRIMARY KEY AUTOINCREMENT,
    name      NVARCHAR(120)
);

CREATE TABLE albums (
    album_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    title     NVARCHAR(160) NOT NULL,
    artist_id INTEGER NOT NULL REFERENCES artists (artist_id)
);

CREATE TABLE genres (
    genre_id INTEGER PRIMARY KEY,
    name     TEXT NOT NULL UNIQUE CHECK (name IN ('Rock', 'Jazz', 'Metal', 'Blues', 'Latin', 'Pop', 'Classical'))
);

CREATE TABLE media_types (
    media_type_id INTEGER PRIMARY KEY,
    name          TEXT NOT NULL
);

CREATE TABLE tracks (
    track_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    name          NVARCHAR(200) NOT NULL,
    album_id      INTEGER REFERENCES albums (album_id),
    media_type_id INTEGER NOT NULL REFERENCES media_types (media_type_id),
    genre_id      INTEGER REFERENCES genres (genre_id),
    composer      NVARCHAR(220),
    milliseconds  INTEGER NOT NULL CHECK (milliseconds > 0),
    bytes         INTEGER,
    unit_price    NUMERIC(10, 2) NOT NULL CHECK (unit_price >= 0.49 AND unit_price <= 1.99)
);

CREATE TABLE playlists (
    playlist_id INTEGER PRIMARY KEY AUTOINCREMENT,
    name        NVARCHAR(120)
);

CREATE TABLE playlist_track (
    playlist_id INTEGER NOT NULL,
    track_id    INTEGER NOT NULL,
    CONSTRAINT pk_playlist_track PRIMARY KEY (playlist_id, track_id),
    FOREIGN KEY (playlist_id) REFERENCES playlists (playlist_id),
    FOREIGN KEY (track_id) REFERENCES tracks (track_id)
);

CREATE TABLE employees (
    employee_id INTEGER PRIMARY KEY AUTOINCREMENT,
    last_name   NVARCHAR(20) NOT NULL,
    first_name  NVARCHAR(20) NOT NULL,
    title       NVARCHAR(30),
    reports_to  INTEGER,
    birth_date  DATETIME,
    hire_date   DATETIME,
    city        NVARCHAR(40),
    country     NVARCHAR(40),
    phone       NVARCHAR(24),
    email       NVARCHAR(60),
    FOREIGN KEY (reports_to) REFERENCES employees (employee_id)
);

CREATE TABLE customers (
    customer_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    first_name     NVARCHAR(40) NOT NULL,
    last_name      NVARCHAR(20) NOT NULL,
    company        NVARCHAR(80),
    address        NVARCHAR(70),
    city           NVARCHAR(40),
    state          NVARCHAR(40),
    country        NVARCHAR(40),
    postal_code    NVARCHAR(10),
    phone          NVARCHAR(24),
    email          NVARCHAR(60) NOT NULL UNIQUE,
    support_rep_id INTEGER REFERENCES employees (employee_id)
);

CREATE TABLE invoices (
    invoice_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id     INTEGER NOT NULL REFERENCES customers (customer_id),
    invoice_date    DATETIME NOT NULL,
    billing_city    NVARCHAR(40),
    billing_country NVARCHAR(40),
    total           NUMERIC(10, 2) NOT NULL CHECK (total >= 0)
);

CREATE TABLE invoice_items (
    invoice_line_id INTEGER PRIMARY KEY AUTOINCREMENT,
    invoice_id      INTEGER NOT NULL REFERENCES invoices (invoice_id),
    track_id        INTEGER NOT NULL REFERENCES tracks (track_id),
    unit_price      NUMERIC(10, 2) NOT NULL,
    quantity        INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 10)
);

CREATE INDEX ifk_tracks_album ON tracks (album_id);
CREATE TRIGGER invoices_total_nonneg BEFORE INSERT ON invoices BEGIN SELECT 1; END;
