"""HTTP ingest and health endpoints on Faust's web server."""
