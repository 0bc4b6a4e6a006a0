-- Nexmark q14: Calculation: converted prices, day/night classification and a UDF (count_char).
-- Run: sluice -i sql-examples/nexmark/ddl.sql -f sql-examples/nexmark/q14.sql

-- The one line that differs from the reference: Flink loads the UDF from a
-- jar, Sluice from the example plugin (udf/examples/my-udfs), built with
--   cargo build --release -p my-udfs
SET 'sluice.udf.plugin-dirs' = 'target/release;target/debug';
CREATE FUNCTION count_char AS 'count_char';

CREATE TABLE nexmark_q14 (
    auction BIGINT,
    bidder BIGINT,
    price  DECIMAL(23, 3),
    bidTimeType VARCHAR,
    `dateTime` TIMESTAMP(3),
    extra VARCHAR,
    c_counts BIGINT
) WITH (
  'connector' = 'blackhole'
);

INSERT INTO nexmark_q14
SELECT 
    auction,
    bidder,
    0.908 * price as price,
    CASE
        WHEN HOUR(`dateTime`) >= 8 AND HOUR(`dateTime`) <= 18 THEN 'dayTime'
        WHEN HOUR(`dateTime`) <= 6 OR HOUR(`dateTime`) >= 20 THEN 'nightTime'
        ELSE 'otherTime'
    END AS bidTimeType,
    `dateTime`,
    extra,
    count_char(extra, 'c') AS c_counts
FROM bid
WHERE 0.908 * price > 1000000 AND 0.908 * price < 50000000;
