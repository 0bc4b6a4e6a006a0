-- The Nexmark source table and its three views, as the Nexmark suite for Flink
-- defines them, with the suite's V1 settings filled in (10 M events/s event
-- time, 10 M events, proportions 1:3:46). Use it as the init file of any query:
--   sluice -i sql-examples/nexmark/ddl.sql -f sql-examples/nexmark/q0.sql
-- sluice-bench overrides 'events.num' and the rates.

CREATE TABLE datagen (
    event_type int,
    person ROW<
        id  BIGINT,
        name  VARCHAR,
        emailAddress  VARCHAR,
        creditCard  VARCHAR,
        city  VARCHAR,
        state  VARCHAR,
        `dateTime` TIMESTAMP(3),
        extra  VARCHAR>,
    auction ROW<
        id  BIGINT,
        itemName  VARCHAR,
        description  VARCHAR,
        initialBid  BIGINT,
        reserve  BIGINT,
        `dateTime`  TIMESTAMP(3),
        expires  TIMESTAMP(3),
        seller  BIGINT,
        category  BIGINT,
        extra  VARCHAR>,
    bid ROW<
        auction  BIGINT,
        bidder  BIGINT,
        price  BIGINT,
        channel  VARCHAR,
        url  VARCHAR,
        `dateTime`  TIMESTAMP(3),
        extra  VARCHAR>,
    `dateTime` AS
        CASE
            WHEN event_type = 0 THEN person.`dateTime`
            WHEN event_type = 1 THEN auction.`dateTime`
            ELSE bid.`dateTime`
        END,
    WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND
) WITH (
    'connector' = 'nexmark',
    'first-event.rate' = '10000000',
    'next-event.rate' = '10000000',
    'events.num' = '10000000',
    'person.proportion' = '1',
    'auction.proportion' = '3',
    'bid.proportion' = '46',
    -- Sluice only: a fixed start of event time makes every run generate the same events.
    'base-time' = '2024-01-01 00:00:00'
);

-- The views name each ROW field explicitly (`person.id AS id`): Flink names an
-- unaliased field access after the field, Sluice does not yet (it would call
-- the column `datagen.person[id]`), so the reference views' unaliased form
-- does not run yet.
CREATE VIEW person AS
SELECT
    person.id AS id,
    person.name AS name,
    person.emailAddress AS emailAddress,
    person.creditCard AS creditCard,
    person.city AS city,
    person.state AS state,
    `dateTime`,
    person.extra AS extra
FROM datagen WHERE event_type = 0;

CREATE VIEW auction AS
SELECT
    auction.id AS id,
    auction.itemName AS itemName,
    auction.description AS description,
    auction.initialBid AS initialBid,
    auction.reserve AS reserve,
    `dateTime`,
    auction.expires AS expires,
    auction.seller AS seller,
    auction.category AS category,
    auction.extra AS extra
FROM datagen WHERE event_type = 1;

CREATE VIEW bid AS
SELECT
    bid.auction AS auction,
    bid.bidder AS bidder,
    bid.price AS price,
    bid.channel AS channel,
    bid.url AS url,
    `dateTime`,
    bid.extra AS extra
FROM datagen WHERE event_type = 2;
