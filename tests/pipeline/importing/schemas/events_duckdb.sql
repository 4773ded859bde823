-- Product analytics in DuckDB: a device/session/event star with HUGEINT counters, a JSON
-- property bag, an enum type, CHECKs, and a composite daily rollup key.
CREATE TYPE platform AS ENUM ('ios', 'android', 'web');

CREATE TABLE accounts (
    account_id   INTEGER PRIMARY KEY,
    account_name VARCHAR NOT NULL,
    country_code VARCHAR(2) NOT NULL,
    signup_date  DATE NOT NULL,
    is_paying    BOOLEAN NOT NULL
);

CREATE TABLE devices (
    device_id   UUID PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (account_id),
    platform    platform NOT NULL,
    os_version  VARCHAR(16),
    first_seen  TIMESTAMP NOT NULL
);

CREATE TABLE sessions (
    session_id  BIGINT PRIMARY KEY,
    device_id   UUID NOT NULL REFERENCES devices (device_id),
    started_at  TIMESTAMP NOT NULL,
    ended_at    TIMESTAMP NOT NULL,
    screens     SMALLINT NOT NULL CHECK (screens BETWEEN 1 AND 500),
    CHECK (ended_at >= started_at)
);

CREATE TABLE events (
    event_id    BIGINT PRIMARY KEY,
    session_id  BIGINT NOT NULL REFERENCES sessions (session_id),
    event_name  VARCHAR NOT NULL CHECK (event_name IN ('view', 'click', 'scroll', 'purchase', 'share')),
    properties  JSON,
    revenue     DECIMAL(10, 2) CHECK (revenue >= 0),
    occurred_at TIMESTAMP NOT NULL
);

CREATE TABLE daily_account_stats (
    account_id INTEGER NOT NULL REFERENCES accounts (account_id),
    stat_date  DATE NOT NULL,
    events     HUGEINT NOT NULL CHECK (events >= 0),
    revenue    DOUBLE NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, stat_date)
);

CREATE VIEW paying_accounts AS SELECT * FROM accounts WHERE is_paying;
