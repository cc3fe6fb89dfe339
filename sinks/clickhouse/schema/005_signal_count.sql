-- Every signal an incident holds, counted on each event (its fingerprints list stops at 100).
-- Events written before this column existed count their listed fingerprints.
ALTER TABLE {db}.incident_events ADD COLUMN IF NOT EXISTS signal_count UInt32 DEFAULT length(fingerprints);
