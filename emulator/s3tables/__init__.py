"""S3 Tables: what moto's s3tables service lacks (importing this registers the API handlers)."""

from emulator.s3tables import access, maintenance, responses, tags  # noqa: F401
