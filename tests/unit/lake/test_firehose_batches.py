"""The Firehose transport's batches (lake/firehose.py): at most 500 records and 4 MiB each."""

from __future__ import annotations

import pytest

from lake import firehose
from lake.firehose import RecordTooLarge


def test_batches_respect_500_records_and_4_mib():
    small = [b"x" * 10] * 1201
    assert [len(b) for b in firehose.batches(small)] == [500, 500, 201]
    big = [b"y" * 1_000_000] * 9
    sizes = [sum(map(len, b)) for b in firehose.batches(big)]
    assert all(s <= 4 * 1024 * 1024 for s in sizes) and sum(sizes) == 9_000_000
    with pytest.raises(RecordTooLarge, match="1,000 KiB record limit"):
        list(firehose.batches([b"z" * 1_024_001]))
