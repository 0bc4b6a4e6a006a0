-- Nexmark q3: Local item suggestion: sellers in OR, ID or CA of category-10 auctions (regular join).
-- Run: sluice -i sql-examples/nexmark/ddl.sql -f sql-examples/nexmark/q3.sql

CREATE TABLE nexmark_q3 (
  name  VARCHAR,
  city  VARCHAR,
  state  VARCHAR,
  id  BIGINT
) WITH (
  'connector' = 'blackhole'
);

INSERT INTO nexmark_q3
SELECT
    P.name, P.city, P.state, A.id
FROM
    auction AS A INNER JOIN person AS P on A.seller = P.id
WHERE
    A.category = 10 and (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA');
