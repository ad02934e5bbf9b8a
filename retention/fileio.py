"""The table's files for pyiceberg's Avro readers and writers: S3 (on AWS) or local disk (the local AWS).

On AWS a table's warehouse is an S3 location (`s3://ID--table-s3/...`): its manifests are read with
GetObject and new ones written with PutObject, which S3 Tables authorizes as `s3tables:GetTableData` and
`s3tables:PutTableData` on the table. The local AWS keeps its tables on disk (`file://...`), as `doit
query` reads them. No data file is ever opened: only manifest lists and manifests.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from pyiceberg.io import FileIO, InputFile, InputStream, OutputFile, OutputStream


def _local(location: str) -> Path:
    return Path(unquote(urlparse(location).path))


def _s3(location: str) -> tuple[str, str]:
    parsed = urlparse(location)
    return parsed.netloc, parsed.path.lstrip("/")


class _Upload(io.BytesIO):
    """A buffer written on close, once: S3 takes a whole object, and pyiceberg's writers close it."""

    def __init__(self, target: _Output) -> None:
        super().__init__()
        self._target = target

    def close(self) -> None:
        if not self.closed:
            self._target.put(self.getvalue())
        super().close()


class _Input(InputFile):
    def __init__(self, location: str, owner: TableFiles) -> None:
        super().__init__(location)
        self._owner = owner
        self._data: bytes | None = None

    def _bytes(self) -> bytes:
        if self._data is None:
            self._data = self._owner.read(self.location)
        return self._data

    def __len__(self) -> int:
        return len(self._bytes())

    def exists(self) -> bool:
        try:
            self._bytes()
        except FileNotFoundError:
            return False
        return True

    def open(self, seekable: bool = True) -> InputStream:
        stream: InputStream = io.BytesIO(self._bytes())
        return stream


class _Output(OutputFile):
    def __init__(self, location: str, owner: TableFiles) -> None:
        super().__init__(location)
        self._owner = owner
        self._length = 0

    def __len__(self) -> int:
        return self._length

    def exists(self) -> bool:
        return _Input(self.location, self._owner).exists()

    def to_input_file(self) -> InputFile:
        return _Input(self.location, self._owner)

    def create(self, overwrite: bool = False) -> OutputStream:
        stream: OutputStream = _Upload(self)
        return stream

    def put(self, data: bytes) -> None:
        self._owner.write(self.location, data)
        self._length = len(data)


class TableFiles(FileIO):
    """pyiceberg's FileIO over an S3 client (`s3://`) and the local disk (`file://`). Counts what it reads
    and writes, for the run's report."""

    def __init__(self, s3: Any = None) -> None:
        super().__init__()
        self._s3 = s3
        self.reads = 0
        self.writes = 0

    def new_input(self, location: str) -> InputFile:
        return _Input(location, self)

    def new_output(self, location: str) -> OutputFile:
        return _Output(location, self)

    def delete(self, location: str | InputFile | OutputFile) -> None:
        raise PermissionError("retention never deletes a file: S3 Tables' unreferenced-file removal does")

    def read(self, location: str) -> bytes:
        self.reads += 1
        if location.startswith("s3://"):
            bucket, key = _s3(location)
            try:
                return bytes(self._client().get_object(Bucket=bucket, Key=key)["Body"].read())
            except self._client().exceptions.NoSuchKey:
                raise FileNotFoundError(location) from None
        return _local(location).read_bytes()

    def write(self, location: str, data: bytes) -> None:
        self.writes += 1
        if location.startswith("s3://"):
            bucket, key = _s3(location)
            self._client().put_object(Bucket=bucket, Key=key, Body=data)
            return
        path = _local(location)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "xb") as out:  # a new manifest's name is unique: never overwrite
            out.write(data)

    def _client(self) -> Any:
        if self._s3 is None:
            raise RuntimeError("an s3:// location needs an S3 client")
        return self._s3
