-- Links that travel with each incident (models/links.py): source, silence, dashboard, panel,
-- runbook and the sender's own, the first URL seen per name. Events stored before this
-- column existed have none.
ALTER TABLE {db}.incident_events ADD COLUMN IF NOT EXISTS links Map(String, String)
