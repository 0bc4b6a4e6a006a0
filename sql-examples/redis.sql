-- Redis: per-customer order counters (INCRBY) and the latest order per
-- customer (HSET), both expiring after a day.
-- Needs the local Redis on 127.0.0.1:6379.
-- Run it with:  cargo run --bin sluice -- -f sql-examples/redis.sql
-- Then:         redis-cli --scan --pattern 'example:*'

CREATE TABLE orders (
  id       BIGINT,
  customer STRING,
  amount   DOUBLE
) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '500',
  'fields.id.kind' = 'sequence',
  'fields.id.start' = '1',
  'fields.id.end' = '1000',
  'fields.customer.length' = '1',
  'fields.amount.min' = '1',
  'fields.amount.max' = '100'
);

CREATE TABLE order_counts (
  customer STRING,
  n        BIGINT
) WITH (
  'connector' = 'redis',
  'host' = '127.0.0.1',
  'port' = '6379',
  'command' = 'incrby',
  'key.prefix' = 'example:orders:',
  'ttl' = '86400'
);

CREATE TABLE last_order (
  customer STRING,
  field    STRING,
  amount   DOUBLE
) WITH (
  'connector' = 'redis',
  'command' = 'hset',
  'key.prefix' = 'example:last:',
  'ttl' = '86400'
);

EXECUTE STATEMENT SET BEGIN
  INSERT INTO order_counts SELECT customer, CAST(1 AS BIGINT) FROM orders;
  INSERT INTO last_order SELECT customer, 'amount', amount FROM orders;
END;
