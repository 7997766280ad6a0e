"""ingest.formats."""
