"""bench/lambda_ratio.py writes its figure under lambda -> url_vs_receiver and keeps every other key."""

from __future__ import annotations

import json
from pathlib import Path

from bench import lambda_ratio


def test_merge_keeps_other_keys_and_other_lambda_entries(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    out.write_text(json.dumps({"ingest": {"x": 1}, "lambda": {"cold_start": {"ms": 5}}}))
    lambda_ratio.merge(out, {"ratio_url_over_receiver": 1.5})
    doc = json.loads(out.read_text())
    assert doc == {
        "ingest": {"x": 1},
        "lambda": {"cold_start": {"ms": 5}, "url_vs_receiver": {"ratio_url_over_receiver": 1.5}},
    }
    lambda_ratio.merge(tmp_path / "new.json", {"r": 2})
    assert json.loads((tmp_path / "new.json").read_text()) == {"lambda": {"url_vs_receiver": {"r": 2}}}
