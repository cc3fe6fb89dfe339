-- SLA deadlines on every lifecycle event (from the incident's severity and the policy's
-- targets, as of that event), and on tocsin.incidents.
ALTER TABLE {db}.incident_events
    ADD COLUMN IF NOT EXISTS response_deadline Nullable(DateTime64(3, 'UTC')),
    ADD COLUMN IF NOT EXISTS resolution_deadline Nullable(DateTime64(3, 'UTC'));
