"""S3: an object put with a full-object checksum header (``x-amz-checksum-sha256``, as boto3 sends for
``ChecksumSHA256=``) keeps it, is refused when the body does not match (``BadDigest``), and returns it from
``HeadObject``/``GetObject`` with ``ChecksumMode: ENABLED``, as the S3 API reference says.

moto 5.2.5 records a checksum only when ``x-amz-sdk-checksum-algorithm`` names the algorithm, which boto3
sends for ``ChecksumAlgorithm=`` but not for a checksum value given directly, and never compares it.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from moto.s3.exceptions import S3ClientError
from moto.s3.responses import S3Response

_DIGESTS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1}
_original = S3Response._get_checksum


class BadDigest(S3ClientError):
    code = "BadDigest"

    def __init__(self, algorithm: str) -> None:
        super().__init__(
            "BadDigest", f"The {algorithm.upper()} you specified did not match the calculated checksum."
        )


def _get_checksum(self: S3Response, response_headers: dict[str, Any]) -> tuple[str, str | None]:
    if not self.headers.get("x-amz-sdk-checksum-algorithm"):
        for algorithm in ("sha256", "sha1", "crc32", "crc32c", "crc64nvme"):
            given = self.headers.get(f"x-amz-checksum-{algorithm}")
            if not given:
                continue
            digest = _DIGESTS.get(algorithm)
            body = bytes(self.raw_body or b"")
            if digest is not None and base64.b64encode(digest(body).digest()).decode() != given:
                raise BadDigest(algorithm)
            response_headers[f"x-amz-checksum-{algorithm}"] = given
            return algorithm.upper(), str(given)
    return _original(self, response_headers)


S3Response._get_checksum = _get_checksum  # type: ignore[method-assign]
