-- Sluice quick start: datagen -> filter/projection/CASE -> print.
-- Needs no external service; the source is bounded, so the job ends by itself.
-- Run it with:  cargo run --bin sluice -- -f sql-examples/quickstart.sql

CREATE TABLE orders (
  order_id   BIGINT,
  customer   STRING,
  amount     DOUBLE,
  quantity   INT,
  order_time AS PROCTIME()
) WITH (
  'connector' = 'datagen',
  'number-of-rows' = '20',
  'rows-per-second' = '100',
  'fields.order_id.kind' = 'sequence',
  'fields.order_id.start' = '1',
  'fields.order_id.end' = '20',
  'fields.customer.length' = '6',
  'fields.amount.min' = '1',
  'fields.amount.max' = '500',
  'fields.quantity.min' = '1',
  'fields.quantity.max' = '10'
);

CREATE TABLE big_orders (
  order_id BIGINT,
  customer STRING,
  amount   DECIMAL(10, 2),
  size     STRING
) WITH (
  'connector' = 'print',
  'print-identifier' = 'big-orders'
);

INSERT INTO big_orders
SELECT
  order_id,
  UPPER(customer),
  CAST(amount AS DECIMAL(10, 2)),
  CASE
    WHEN quantity >= 8 THEN 'bulk'
    WHEN quantity >= 4 THEN 'medium'
    ELSE 'single'
  END
FROM orders
WHERE amount > 100;
