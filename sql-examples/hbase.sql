-- HBase: the latest order per customer (put mode: one HBase row per
-- customer with an 'info' and an 'amounts' column family) and an order
-- counter per customer (increment mode), written through HBase's Thrift2
-- gateway.
-- Needs an HBase that YOU run, with its Thrift2 server on 127.0.0.1:9090
-- (`hbase thrift2 start`) and the tables created in the HBase shell:
--   create 'orders_latest', 'info', 'amounts'
--   create 'order_counts', 'c'
-- Run it with:  cargo run --bin sluice -- -f sql-examples/hbase.sql
-- Then:         echo "scan 'orders_latest'" | hbase shell

CREATE TABLE orders (
  customer STRING,
  info     ROW<order_id BIGINT, ts TIMESTAMP(3)>,
  amounts  ROW<amount DECIMAL(10, 2)>,
  one      ROW<orders BIGINT>
) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '200',
  'number-of-rows' = '2000',
  'fields.customer.length' = '2',
  'fields.info.order_id.min' = '1',
  'fields.info.order_id.max' = '1000000',
  'fields.amounts.amount.min' = '1',
  'fields.amounts.amount.max' = '500',
  'fields.one.orders.min' = '1',
  'fields.one.orders.max' = '1'
);

-- Flink's mapping: the atomic column is the row key, each ROW column a
-- column family whose fields are its qualifiers.
CREATE TABLE orders_latest (
  customer STRING,
  info     ROW<order_id BIGINT, ts TIMESTAMP(3)>,
  amounts  ROW<amount DECIMAL(10, 2)>,
  PRIMARY KEY (customer) NOT ENFORCED
) WITH (
  'connector' = 'hbase-2.2',
  'table-name' = 'default:orders_latest',
  'thrift.address' = '127.0.0.1:9090',
  'sink.buffer-flush.max-rows' = '500',
  'sink.buffer-flush.interval' = '1s'
);

-- Every qualifier is a BIGINT counter; each order adds 1.
CREATE TABLE order_counts (
  customer STRING,
  c        ROW<orders BIGINT>
) WITH (
  'connector' = 'hbase',
  'table-name' = 'order_counts',
  'thrift.address' = '127.0.0.1:9090',
  'sink.write-mode' = 'increment'
);

EXECUTE STATEMENT SET
BEGIN
  INSERT INTO orders_latest SELECT customer, info, amounts FROM orders;
  INSERT INTO order_counts SELECT customer, one FROM orders;
END;
