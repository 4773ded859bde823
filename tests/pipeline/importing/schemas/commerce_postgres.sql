-- A multi-tenant commerce platform, PostgreSQL: 36 tables, enums, CHECKs, composite keys,
-- self-references, a foreign-key cycle (departments <-> employees), ALTER TABLE foreign keys,
-- and the statements an importer must skip (views, functions, indexes, grants, comments).

CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TYPE order_status AS ENUM ('pending', 'paid', 'packed', 'shipped', 'delivered', 'cancelled', 'refunded');
CREATE TYPE notification_channel AS ENUM ('email', 'sms', 'push');

CREATE TABLE currencies (
    code        CHAR(3) PRIMARY KEY,
    name        VARCHAR(60) NOT NULL,
    minor_units SMALLINT NOT NULL DEFAULT 2 CHECK (minor_units BETWEEN 0 AND 4)
);

CREATE TABLE exchange_rates (
    currency_code CHAR(3) NOT NULL REFERENCES currencies (code),
    rate_date     DATE NOT NULL,
    rate          NUMERIC(12, 6) NOT NULL CHECK (rate > 0),
    PRIMARY KEY (currency_code, rate_date)
);

CREATE TABLE tenants (
    tenant_id   BIGSERIAL PRIMARY KEY,
    slug        VARCHAR(40) NOT NULL UNIQUE,
    name        VARCHAR(120) NOT NULL,
    plan        TEXT NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'team', 'business', 'enterprise')),
    currency    CHAR(3) NOT NULL REFERENCES currencies (code),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE roles (
    role_id     SERIAL PRIMARY KEY,
    name        VARCHAR(20) NOT NULL UNIQUE CHECK (name IN ('owner', 'admin', 'editor', 'viewer')),
    description TEXT
);

CREATE TABLE users (
    user_id       BIGSERIAL PRIMARY KEY,
    tenant_id     BIGINT NOT NULL REFERENCES tenants (tenant_id),
    public_id     UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    email         VARCHAR(255) NOT NULL UNIQUE,
    username      VARCHAR(40) NOT NULL,
    first_name    VARCHAR(60),
    last_name     VARCHAR(60),
    phone         VARCHAR(32),
    password_hash CHAR(64) NOT NULL,
    is_active     BOOLEAN NOT NULL DEFAULT TRUE,
    last_login_at TIMESTAMP,
    created_at    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT users_username_len CHECK (char_length(username) >= 3)
);

CREATE TABLE user_roles (
    user_id    BIGINT NOT NULL REFERENCES users (user_id),
    role_id    INT NOT NULL REFERENCES roles (role_id),
    granted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, role_id)
);

CREATE TABLE sessions (
    session_id  UUID PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (user_id),
    ip_address  INET,
    user_agent  TEXT,
    started_at  TIMESTAMP NOT NULL,
    ended_at    TIMESTAMP,
    CHECK (ended_at >= started_at)
);

CREATE TABLE departments (
    department_id SERIAL PRIMARY KEY,
    tenant_id     BIGINT NOT NULL REFERENCES tenants (tenant_id),
    name          VARCHAR(80) NOT NULL,
    manager_id    INT,
    budget        NUMERIC(14, 2) CHECK (budget >= 0)
);

CREATE TABLE employees (
    employee_id   SERIAL PRIMARY KEY,
    department_id INT NOT NULL REFERENCES departments (department_id),
    manager_id    INT REFERENCES employees (employee_id),
    first_name    VARCHAR(60) NOT NULL,
    last_name     VARCHAR(60) NOT NULL,
    email         VARCHAR(200) NOT NULL UNIQUE,
    ssn           CHAR(11),
    birth_date    DATE CHECK (birth_date > '1900-01-01'),
    hire_date     DATE NOT NULL,
    termination_date DATE,
    salary        NUMERIC(10, 2) NOT NULL CHECK (salary BETWEEN 15000 AND 500000),
    CHECK (termination_date >= hire_date)
);

ALTER TABLE departments ADD CONSTRAINT departments_manager_fk FOREIGN KEY (manager_id) REFERENCES employees (employee_id);

CREATE TABLE warehouses (
    warehouse_id SERIAL PRIMARY KEY,
    tenant_id    BIGINT NOT NULL REFERENCES tenants (tenant_id),
    code         VARCHAR(8) NOT NULL,
    city         VARCHAR(80) NOT NULL,
    country      CHAR(2) NOT NULL,
    latitude     NUMERIC(9, 6),
    longitude    NUMERIC(9, 6),
    UNIQUE (tenant_id, code)
);

CREATE TABLE suppliers (
    supplier_id  SERIAL PRIMARY KEY,
    name         VARCHAR(120) NOT NULL,
    contact_email VARCHAR(200),
    phone        VARCHAR(32),
    country      VARCHAR(60),
    iban         VARCHAR(34),
    rating       SMALLINT CHECK (rating BETWEEN 1 AND 5)
);

CREATE TABLE categories (
    category_id SERIAL PRIMARY KEY,
    parent_id   INT REFERENCES categories (category_id),
    name        VARCHAR(80) NOT NULL,
    slug        VARCHAR(80) NOT NULL UNIQUE,
    position    INT NOT NULL DEFAULT 0 CHECK (position >= 0)
);

CREATE TABLE products (
    product_id  BIGSERIAL PRIMARY KEY,
    tenant_id   BIGINT NOT NULL REFERENCES tenants (tenant_id),
    supplier_id INT REFERENCES suppliers (supplier_id),
    sku         VARCHAR(32) NOT NULL UNIQUE CHECK (char_length(sku) >= 4),
    name        VARCHAR(200) NOT NULL,
    description TEXT,
    price       NUMERIC(10, 2) NOT NULL CHECK (price >= 0),
    cost        NUMERIC(10, 2) CHECK (cost >= 0),
    weight_kg   NUMERIC(7, 3) CHECK (weight_kg > 0),
    status      VARCHAR(12) NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'archived')),
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE product_categories (
    product_id  BIGINT NOT NULL REFERENCES products (product_id),
    category_id INT NOT NULL REFERENCES categories (category_id),
    PRIMARY KEY (product_id, category_id)
);

CREATE TABLE product_variants (
    variant_id  BIGSERIAL PRIMARY KEY,
    product_id  BIGINT NOT NULL REFERENCES products (product_id),
    color       VARCHAR(30),
    size        VARCHAR(4) CHECK (size IN ('XS', 'S', 'M', 'L', 'XL', 'XXL')),
    barcode     VARCHAR(13) UNIQUE,
    price_delta NUMERIC(8, 2) NOT NULL DEFAULT 0
);

CREATE TABLE inventory (
    warehouse_id INT NOT NULL REFERENCES warehouses (warehouse_id),
    variant_id   BIGINT NOT NULL REFERENCES product_variants (variant_id),
    on_hand      INT NOT NULL CHECK (on_hand >= 0),
    reserved     INT NOT NULL DEFAULT 0,
    updated_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (warehouse_id, variant_id),
    CONSTRAINT inventory_reserved CHECK (reserved >= 0 AND reserved <= on_hand)
);

CREATE TABLE tags (
    tag_id SERIAL PRIMARY KEY,
    label  VARCHAR(40) NOT NULL UNIQUE
);

CREATE TABLE product_tags (
    product_id BIGINT NOT NULL REFERENCES products (product_id),
    tag_id     INT NOT NULL REFERENCES tags (tag_id),
    PRIMARY KEY (product_id, tag_id)
);

CREATE TABLE customers (
    customer_id BIGSERIAL PRIMARY KEY,
    tenant_id   BIGINT NOT NULL REFERENCES tenants (tenant_id),
    email       VARCHAR(255) NOT NULL,
    first_name  VARCHAR(60) NOT NULL,
    last_name   VARCHAR(60) NOT NULL,
    phone       VARCHAR(32),
    date_of_birth DATE,
    loyalty_tier VARCHAR(10) NOT NULL DEFAULT 'bronze' CHECK (loyalty_tier IN ('bronze', 'silver', 'gold', 'platinum')),
    marketing_opt_in BOOLEAN NOT NULL DEFAULT FALSE,
    referred_by BIGINT REFERENCES customers (customer_id),
    created_at  TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, email)
);

CREATE TABLE customer_addresses (
    customer_id BIGINT NOT NULL REFERENCES customers (customer_id),
    address_no  SMALLINT NOT NULL CHECK (address_no >= 1),
    kind        VARCHAR(8) NOT NULL CHECK (kind IN ('billing', 'shipping')),
    street      VARCHAR(200) NOT NULL,
    city        VARCHAR(80) NOT NULL,
    postal_code VARCHAR(12),
    state       VARCHAR(60),
    country     CHAR(2) NOT NULL,
    PRIMARY KEY (customer_id, address_no)
);

CREATE TABLE coupons (
    coupon_id        SERIAL PRIMARY KEY,
    code             VARCHAR(20) NOT NULL UNIQUE,
    discount_percent SMALLINT NOT NULL CHECK (discount_percent BETWEEN 5 AND 50),
    valid_from       DATE NOT NULL,
    valid_to         DATE NOT NULL,
    CHECK (valid_to >= valid_from)
);

CREATE TABLE carts (
    cart_id     BIGSERIAL PRIMARY KEY,
    customer_id BIGINT REFERENCES customers (customer_id),
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE cart_items (
    cart_id    BIGINT NOT NULL REFERENCES carts (cart_id),
    variant_id BIGINT NOT NULL REFERENCES product_variants (variant_id),
    quantity   INT NOT NULL CHECK (quantity > 0),
    added_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (cart_id, variant_id)
);

CREATE TABLE orders (
    order_id      BIGSERIAL PRIMARY KEY,
    tenant_id     BIGINT NOT NULL,
    customer_id   BIGINT NOT NULL,
    order_number  VARCHAR(20) NOT NULL UNIQUE,
    status        order_status NOT NULL DEFAULT 'pending',
    currency      CHAR(3) NOT NULL,
    subtotal      NUMERIC(12, 2) NOT NULL CHECK (subtotal >= 0),
    tax           NUMERIC(12, 2) NOT NULL DEFAULT 0 CHECK (tax >= 0),
    shipping_fee  NUMERIC(8, 2) NOT NULL DEFAULT 0 CHECK (shipping_fee >= 0),
    placed_at     TIMESTAMP NOT NULL,
    shipped_at    TIMESTAMP,
    CONSTRAINT orders_shipped_after CHECK (shipped_at >= placed_at)
);

ALTER TABLE orders ADD CONSTRAINT orders_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (tenant_id);
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (customer_id);
ALTER TABLE orders ADD FOREIGN KEY (currency) REFERENCES currencies (code);

CREATE TABLE order_items (
    order_id   BIGINT NOT NULL REFERENCES orders (order_id) ON DELETE CASCADE,
    line_no    SMALLINT NOT NULL,
    variant_id BIGINT NOT NULL REFERENCES product_variants (variant_id),
    quantity   INT NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    unit_price NUMERIC(10, 2) NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE order_coupons (
    order_id  BIGINT NOT NULL REFERENCES orders (order_id),
    coupon_id INT NOT NULL REFERENCES coupons (coupon_id),
    PRIMARY KEY (order_id, coupon_id)
);

CREATE TABLE payments (
    payment_id  BIGSERIAL PRIMARY KEY,
    order_id    BIGINT NOT NULL REFERENCES orders (order_id),
    method      VARCHAR(12) NOT NULL CHECK (method IN ('card', 'paypal', 'transfer', 'voucher')),
    amount      NUMERIC(12, 2) NOT NULL CHECK (amount > 0),
    card_number VARCHAR(19),
    paid_at     TIMESTAMP NOT NULL,
    succeeded   BOOLEAN NOT NULL
);

CREATE TABLE refunds (
    refund_id   BIGSERIAL PRIMARY KEY,
    payment_id  BIGINT NOT NULL REFERENCES payments (payment_id),
    amount      NUMERIC(12, 2) NOT NULL CHECK (amount > 0),
    reason      TEXT,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE shipments (
    shipment_id     BIGSERIAL PRIMARY KEY,
    order_id        BIGINT NOT NULL REFERENCES orders (order_id),
    warehouse_id    INT NOT NULL REFERENCES warehouses (warehouse_id),
    carrier         VARCHAR(10) NOT NULL CHECK (carrier IN ('ups', 'dhl', 'fedex', 'usps', 'dpd')),
    tracking_number VARCHAR(40) UNIQUE,
    shipped_at      TIMESTAMP NOT NULL,
    delivered_at    TIMESTAMP,
    CHECK (delivered_at >= shipped_at)
);

CREATE TABLE shipment_items (
    shipment_id BIGINT NOT NULL REFERENCES shipments (shipment_id),
    variant_id  BIGINT NOT NULL REFERENCES product_variants (variant_id),
    quantity    INT NOT NULL CHECK (quantity >= 1),
    PRIMARY KEY (shipment_id, variant_id)
);

CREATE TABLE reviews (
    review_id   BIGSERIAL PRIMARY KEY,
    product_id  BIGINT NOT NULL REFERENCES products (product_id),
    customer_id BIGINT NOT NULL REFERENCES customers (customer_id),
    rating      SMALLINT NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title       VARCHAR(120),
    body        TEXT,
    created_at  TIMESTAMP NOT NULL,
    UNIQUE (product_id, customer_id)
);

CREATE TABLE wishlists (
    wishlist_id BIGSERIAL PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (customer_id),
    name        VARCHAR(60) NOT NULL DEFAULT 'Favourites',
    is_public   BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE wishlist_items (
    wishlist_id BIGINT NOT NULL REFERENCES wishlists (wishlist_id),
    product_id  BIGINT NOT NULL REFERENCES products (product_id),
    added_on    DATE NOT NULL,
    PRIMARY KEY (wishlist_id, product_id)
);

CREATE TABLE purchase_orders (
    po_id        BIGSERIAL PRIMARY KEY,
    supplier_id  INT NOT NULL REFERENCES suppliers (supplier_id),
    warehouse_id INT NOT NULL REFERENCES warehouses (warehouse_id),
    ordered_on   DATE NOT NULL,
    expected_on  DATE,
    total        NUMERIC(14, 2) NOT NULL CHECK (total >= 0)
);

CREATE TABLE purchase_order_lines (
    po_id      BIGINT NOT NULL REFERENCES purchase_orders (po_id),
    line_no    INT NOT NULL,
    variant_id BIGINT NOT NULL REFERENCES product_variants (variant_id),
    quantity   INT NOT NULL CHECK (quantity > 0),
    unit_cost  NUMERIC(10, 2) NOT NULL CHECK (unit_cost >= 0),
    PRIMARY KEY (po_id, line_no)
);

CREATE TABLE notifications (
    notification_id BIGSERIAL PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users (user_id),
    channel         notification_channel NOT NULL,
    subject         VARCHAR(150) NOT NULL,
    sent_at         TIMESTAMP NOT NULL,
    read_at         TIMESTAMP,
    is_read         BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE audit_log (
    audit_id    BIGSERIAL PRIMARY KEY,
    actor_id    BIGINT REFERENCES users (user_id),
    entity      VARCHAR(40) NOT NULL,
    entity_id   BIGINT NOT NULL,
    action      VARCHAR(10) NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
    payload     JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE support_tickets (
    ticket_id   BIGSERIAL PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (customer_id),
    assignee_id INT REFERENCES employees (employee_id),
    priority    SMALLINT NOT NULL CHECK (priority BETWEEN 1 AND 4),
    subject     VARCHAR(150) NOT NULL,
    opened_at   TIMESTAMP NOT NULL,
    closed_at   TIMESTAMP,
    CHECK (closed_at >= opened_at)
);

CREATE TABLE ticket_messages (
    ticket_id  BIGINT NOT NULL REFERENCES support_tickets (ticket_id),
    message_no INT NOT NULL CHECK (message_no > 0),
    author_id  BIGINT REFERENCES users (user_id),
    body       TEXT NOT NULL,
    sent_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (ticket_id, message_no)
);

CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE UNIQUE INDEX products_tenant_sku_idx ON products (tenant_id, sku);
CREATE VIEW order_totals AS
    SELECT o.order_id, SUM(i.quantity * i.unit_price) AS total FROM orders o JOIN order_items i USING (order_id)
    GROUP BY o.order_id;
CREATE FUNCTION touch_updated_at() RETURNS trigger AS $$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO reporting;
COMMENT ON TABLE orders IS 'One row per checkout';
