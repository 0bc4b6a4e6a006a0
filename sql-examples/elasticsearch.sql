-- Elasticsearch: clicks per user and region, upserted by document id
-- (user_region), and the raw click log appended to a daily index.
-- Needs an Elasticsearch 7 or 8 that YOU run on http://127.0.0.1:9200
-- (plain HTTP; with security on, add 'username' / 'password'), e.g.
--   docker run -p 9200:9200 -e discovery.type=single-node \
--     -e xpack.security.enabled=false docker.elastic.co/elasticsearch/elasticsearch:8.14.0
-- Run it with:  cargo run --bin sluice -- -f sql-examples/elasticsearch.sql
-- Then:         curl 'http://127.0.0.1:9200/clicks-per-user/_search?pretty'

CREATE TABLE clicks (
  user_id STRING,
  region  STRING,
  url     STRING,
  ts      TIMESTAMP(3)
) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '200',
  'number-of-rows' = '2000',
  'fields.user_id.length' = '1',
  'fields.region.length' = '1',
  'fields.url.length' = '12',
  'fields.ts.max-past' = '2 d'
);

CREATE TABLE clicks_per_user (
  user_id STRING,
  region  STRING,
  clicks  BIGINT,
  PRIMARY KEY (user_id, region) NOT ENFORCED
) WITH (
  'connector' = 'elasticsearch-7',
  'hosts' = 'http://127.0.0.1:9200',
  'index' = 'clicks-per-user',
  'sink.bulk-flush.max-actions' = '500',
  'sink.bulk-flush.interval' = '1s',
  'sink.bulk-flush.backoff.strategy' = 'EXPONENTIAL'
);

CREATE TABLE click_log (
  user_id STRING,
  url     STRING,
  ts      TIMESTAMP(3)
) WITH (
  'connector' = 'elasticsearch-7',
  'hosts' = 'http://127.0.0.1:9200',
  'index' = 'click-log-{ts|yyyy-MM-dd}'
);

EXECUTE STATEMENT SET
BEGIN
  INSERT INTO clicks_per_user
    SELECT user_id, region, COUNT(*) FROM clicks GROUP BY user_id, region;
  INSERT INTO click_log
    SELECT user_id, url, ts FROM clicks;
END;
