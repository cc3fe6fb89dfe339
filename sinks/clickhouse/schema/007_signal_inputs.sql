-- Every engine input kept whole, in the order the engine applied it, so history can be fed
-- through the engine again (`tocsin backtest`) and analysts can ask of labels directly.
-- `payload` is the input exactly as the engine read it from tocsin.signals (`[tag, fields]`,
-- streams/codec.py); labels and annotations are derived from it by ClickHouse, so a row
-- carries them once. Order: `partition`, `offset` of the tocsin.signals record, `position`
-- of the input in it. An exact re-send of a signal has no payload but the `content` hash of
-- the earlier input it repeats, and its labels (so noise counts by label see every re-send).
-- Rows written before this migration have an empty payload.
ALTER TABLE {db}.signals ADD COLUMN IF NOT EXISTS payload String DEFAULT '';
ALTER TABLE {db}.signals ADD COLUMN IF NOT EXISTS content String DEFAULT '';
ALTER TABLE {db}.signals ADD COLUMN IF NOT EXISTS token String DEFAULT '';
ALTER TABLE {db}.signals ADD COLUMN IF NOT EXISTS key String DEFAULT '';
ALTER TABLE {db}.signals ADD COLUMN IF NOT EXISTS partition UInt16 DEFAULT 0;
ALTER TABLE {db}.signals ADD COLUMN IF NOT EXISTS offset UInt64 DEFAULT 0;
ALTER TABLE {db}.signals ADD COLUMN IF NOT EXISTS position UInt32 DEFAULT 0;
ALTER TABLE {db}.signals ADD COLUMN IF NOT EXISTS labels Map(LowCardinality(String), String)
    DEFAULT JSONExtract(payload, 2, 'labels', 'Map(String, String)');
ALTER TABLE {db}.signals ADD COLUMN IF NOT EXISTS annotations Map(LowCardinality(String), String)
    MATERIALIZED JSONExtract(payload, 2, 'annotations', 'Map(String, String)')
