"""Faust agents: ingest (parse + repartition), correlate (engine + table), sink (ClickHouse)."""
