-- Kafka in, Kafka out. A datagen job produces orders into the topic
-- 'orders' (keyed by customer, JSON values); a second job reads them from
-- the earliest offset and writes the big ones, enriched, to 'big_orders',
-- keeping each record's Kafka timestamp.
--
-- Needs a Kafka broker on 127.0.0.1:9092 (topics are auto-created, or create
-- 'orders' and 'big_orders' first). Run it from the repository root with:
--   cargo run --bin sluice -- -f sql-examples/kafka-source-to-sink.sql
-- and stop it with Ctrl-C (the jobs stop cleanly, sinks flushed).

CREATE TABLE order_gen (
  order_id BIGINT,
  customer STRING,
  amount   DOUBLE
) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '100',
  'fields.order_id.kind' = 'sequence',
  'fields.order_id.start' = '1',
  'fields.order_id.end' = '1000000',
  'fields.customer.length' = '3',
  'fields.amount.min' = '1',
  'fields.amount.max' = '100'
);

CREATE TABLE orders (
  order_id   BIGINT,
  customer   STRING,
  amount     DOUBLE,
  -- Kafka's own record attributes, read-only.
  `partition` INT METADATA VIRTUAL,
  `offset`    BIGINT METADATA VIRTUAL,
  event_time  TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL
) WITH (
  'connector' = 'kafka',
  'topic' = 'orders',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'properties.group.id' = 'sluice-example-orders',
  'scan.startup.mode' = 'earliest-offset',
  'key.format' = 'raw',
  'key.fields' = 'customer',
  'value.format' = 'json'
);

CREATE TABLE big_orders (
  order_id     BIGINT,
  customer     STRING,
  amount_cents BIGINT,
  source_offset STRING,
  -- Written as the record's timestamp.
  ts           TIMESTAMP_LTZ(3) METADATA FROM 'timestamp'
) WITH (
  'connector' = 'kafka',
  'topic' = 'big_orders',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'key.format' = 'json',
  'key.fields' = 'order_id',
  'value.format' = 'json',
  'value.fields-include' = 'EXCEPT_KEY',
  'sink.delivery-guarantee' = 'at-least-once'
);

INSERT INTO orders SELECT order_id, customer, amount FROM order_gen;

INSERT INTO big_orders
SELECT order_id,
       UPPER(customer),
       CAST(amount * 100 AS BIGINT),
       CONCAT(CAST(`partition` AS STRING), '/', CAST(`offset` AS STRING)),
       event_time
FROM orders
WHERE amount > 50;
