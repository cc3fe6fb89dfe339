"""tocsin's stream processing: the Faust app, its topics, agents, HTTP ingest and CLI."""
