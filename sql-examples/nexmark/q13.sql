-- Nexmark q13: Bids enriched from a bounded side input (processing-time lookup join).
-- Run: sluice -i sql-examples/nexmark/ddl.sql -f sql-examples/nexmark/q13.sql
-- Reads /tmp/sluice-nexmark/side_input.txt: 10,000 lines 'i,i' (sluice-bench writes it).
-- The reference uses the legacy 'connector.type' keys; this is the same table with today's keys.

CREATE TABLE side_input (
  key BIGINT,
  `value` VARCHAR
) WITH (
  'connector' = 'filesystem',
  'path' = 'file:///tmp/sluice-nexmark/side_input.txt',
  'format' = 'csv'
);

CREATE TABLE nexmark_q13 (
  auction  BIGINT,
  bidder  BIGINT,
  price  BIGINT,
  `dateTime`  TIMESTAMP(3),
  `value`  VARCHAR
) WITH (
  'connector' = 'blackhole'
);

INSERT INTO nexmark_q13
SELECT
    B.auction,
    B.bidder,
    B.price,
    B.`dateTime`,
    S.`value`
FROM (SELECT *, PROCTIME() as p_time FROM bid) B
JOIN side_input FOR SYSTEM_TIME AS OF B.p_time AS S
ON mod(B.auction, 10000) = S.key;
