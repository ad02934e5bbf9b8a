"""Patches of moto's S3: the bucket-policy secure-transport rule (secure_transport.py), put checksums kept
and checked (checksums.py) and lifecycle expiration on the local AWS's clock (lifecycle.py). Importing the
package applies them."""

from emulator.s3 import checksums, lifecycle, secure_transport  # noqa: F401
