"""The Iceberg store behind S3 Tables: real Iceberg v2 tables in the data dir (store.py)."""
