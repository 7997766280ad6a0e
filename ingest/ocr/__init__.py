"""ingest.ocr."""
