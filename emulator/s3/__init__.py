"""Patches of moto's S3: the bucket-policy secure-transport rule (secure_transport.py) and lifecycle
expiration on the local AWS's clock (lifecycle.py)."""
