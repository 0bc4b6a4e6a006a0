-- A windowed aggregate from Kafka into upsert-kafka. Clicks are produced
-- into 'clicks'; their Kafka timestamps are the event time, and every ten
-- seconds of event time the clicks per user are written to the compacted
-- topic 'clicks_per_user', keyed by (window_start, user_name).
-- Each partition of 'clicks' has its own watermark; a partition that stays
-- silent for 5 s no longer holds the windows back.
--
-- Needs a Kafka broker on 127.0.0.1:9092. Run it from the repository root:
--   cargo run --bin sluice -- -f sql-examples/kafka-window-to-upsert-kafka.sql

CREATE TABLE click_gen (
  user_name STRING,
  url       STRING
) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '50',
  'fields.user_name.length' = '1',
  'fields.url.length' = '10'
);

CREATE TABLE clicks (
  user_name STRING,
  url       STRING,
  ts        TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
  WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH (
  'connector' = 'kafka',
  'topic' = 'clicks',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'scan.startup.mode' = 'earliest-offset',
  'scan.watermark.idle-timeout' = '5 s',
  'format' = 'json'
);

CREATE TABLE clicks_per_user (
  window_start TIMESTAMP(3),
  user_name    STRING,
  clicks       BIGINT,
  PRIMARY KEY (window_start, user_name) NOT ENFORCED
) WITH (
  'connector' = 'upsert-kafka',
  'topic' = 'clicks_per_user',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'key.format' = 'json',
  'value.format' = 'json'
);

INSERT INTO clicks SELECT user_name, url FROM click_gen;

INSERT INTO clicks_per_user
SELECT window_start, user_name, COUNT(*)
FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY window_start, window_end, user_name;
