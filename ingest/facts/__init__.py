"""ingest.facts."""
