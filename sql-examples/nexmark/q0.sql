-- Nexmark q0: Pass through: every bid into the sink (source and sink overhead).
-- Run: sluice -i sql-examples/nexmark/ddl.sql -f sql-examples/nexmark/q0.sql

CREATE TABLE nexmark_q0 (
  auction  BIGINT,
  bidder  BIGINT,
  price  BIGINT,
  `dateTime`  TIMESTAMP(3),
  extra  VARCHAR
) WITH (
  'connector' = 'blackhole'
);

INSERT INTO nexmark_q0
SELECT auction, bidder, price, `dateTime`, extra FROM bid;
