"""Patches of moto's S3: the bucket-policy secure-transport rule (secure_transport.py)."""
