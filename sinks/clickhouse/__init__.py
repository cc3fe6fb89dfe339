"""ClickHouse: schema, migrations, the idempotent event writer."""
