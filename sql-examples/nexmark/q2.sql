-- Nexmark q2: Selection: bids on every 123rd auction (a filter).
-- Run: sluice -i sql-examples/nexmark/ddl.sql -f sql-examples/nexmark/q2.sql

CREATE TABLE nexmark_q2 (
  auction  BIGINT,
  price  BIGINT
) WITH (
  'connector' = 'blackhole'
);

INSERT INTO nexmark_q2
SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0;
