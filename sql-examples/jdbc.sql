-- JDBC: copy generated orders into MariaDB, keep a per-customer summary in
-- PostgreSQL (an updating GROUP BY into a keyed table: upserts).
-- Needs the local MariaDB (root, no password) and PostgreSQL (postgres, trust)
-- with a database `test`, and these tables:
--   mysql -uroot test -e "CREATE TABLE IF NOT EXISTS example_orders (id BIGINT PRIMARY KEY, customer VARCHAR(20), amount DECIMAL(10, 2))"
--   psql -U postgres test -c "CREATE TABLE IF NOT EXISTS example_customer_totals (customer VARCHAR(20) PRIMARY KEY, orders BIGINT, total DECIMAL(12, 2))"
-- Run it with:  cargo run --bin sluice -- -f sql-examples/jdbc.sql

CREATE TABLE gen (
  id       BIGINT,
  customer STRING,
  amount   DECIMAL(10, 2)
) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '1000',
  'fields.id.kind' = 'sequence',
  'fields.id.start' = '1',
  'fields.id.end' = '1000',
  'fields.customer.length' = '1',
  'fields.amount.min' = '1',
  'fields.amount.max' = '100'
);

CREATE TABLE orders (
  id       BIGINT,
  customer STRING,
  amount   DECIMAL(10, 2),
  PRIMARY KEY (id) NOT ENFORCED
) WITH (
  'connector' = 'jdbc',
  'url' = 'jdbc:mysql://127.0.0.1:3306/test',
  'table-name' = 'example_orders',
  'username' = 'root',
  'sink.buffer-flush.max-rows' = '500',
  'sink.buffer-flush.interval' = '1s',
  'scan.partition.column' = 'id',
  'scan.partition.num' = '4',
  'scan.partition.lower-bound' = '1',
  'scan.partition.upper-bound' = '1000'
);

CREATE TABLE customer_totals (
  customer STRING NOT NULL,
  orders   BIGINT,
  total    DECIMAL(12, 2),
  PRIMARY KEY (customer) NOT ENFORCED
) WITH (
  'connector' = 'jdbc',
  'url' = 'jdbc:postgresql://127.0.0.1:5432/test',
  'table-name' = 'example_customer_totals',
  'username' = 'postgres'
);

INSERT INTO orders SELECT id, customer, amount FROM gen;

INSERT INTO customer_totals
SELECT customer, COUNT(*), CAST(SUM(amount) AS DECIMAL(12, 2)) FROM gen GROUP BY customer;

-- Both INSERTs run as background jobs. Once they finish, the MariaDB table
-- can be read back in four parallel ranges (scan.partition.*), e.g. in the
-- shell:  SELECT customer, amount FROM orders WHERE amount > 99;
