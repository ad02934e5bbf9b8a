"""The Iceberg store behind S3 Tables: real Iceberg v2 tables in the data dir (store.py), built from the
S3 Tables field lists (schema.py), evolved only as Iceberg allows (evolution.py)."""
