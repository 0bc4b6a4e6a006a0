-- A MySQL table's changes, as Canal publishes them to Kafka, kept up to date
-- as an aggregate. The 'products' table reads the topic 'products_binlog'
-- in the canal-json format: each INSERT, UPDATE and DELETE event becomes
-- +I, -U/+U and -D rows, which the GROUP BY consumes, and the totals per
-- category are written to the compacted topic 'category_weights'.
--
-- To try it without MySQL and Canal, the first job copies the sample events
-- of sql-examples/kafka-canal-products.jsonl (as Canal wrote them) into the
-- topic, byte for byte, with the 'raw' format.
--
-- The binlog topic must keep each row's changes in order: one partition
-- (Canal's default), or partitioned by primary key.
--
-- Needs a Kafka broker on 127.0.0.1:9092. Run it from the repository root:
--   cargo run --bin sluice -- -f sql-examples/kafka-canal-changelog.sql

CREATE TABLE canal_samples (
  event STRING
) WITH (
  'connector' = 'filesystem',
  'path' = 'sql-examples/kafka-canal-products.jsonl',
  'format' = 'raw'
);

CREATE TABLE products_binlog (
  event STRING
) WITH (
  'connector' = 'kafka',
  'topic' = 'products_binlog',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'format' = 'raw'
);

CREATE TABLE products (
  id          INT,
  name        STRING,
  category    STRING,
  weight      DOUBLE,
  -- From the Canal event itself.
  origin      STRING METADATA FROM 'value.table' VIRTUAL,
  PRIMARY KEY (id) NOT ENFORCED
) WITH (
  'connector' = 'kafka',
  'topic' = 'products_binlog',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'scan.startup.mode' = 'earliest-offset',
  'format' = 'canal-json',
  'canal-json.database.include' = 'inventory',
  'canal-json.table.include' = 'products'
);

CREATE TABLE category_weights (
  category     STRING,
  products     BIGINT,
  total_weight DOUBLE,
  PRIMARY KEY (category) NOT ENFORCED
) WITH (
  'connector' = 'upsert-kafka',
  'topic' = 'category_weights',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'key.format' = 'json',
  'value.format' = 'json'
);

INSERT INTO products_binlog SELECT event FROM canal_samples;

INSERT INTO category_weights
SELECT category, COUNT(*), SUM(weight)
FROM products
GROUP BY category;
