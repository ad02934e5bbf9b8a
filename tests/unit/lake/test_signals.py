"""The signal registry (lake/signals.py) is the one list: every signal has its contract, its mapping, its
place in the template and a verify request that lands exactly one row in its own table."""

from __future__ import annotations

import json

import pytest

from ingest import decode
from ingest.mapping import MAPPERS, PLANS, Received
from lake import schemas, signals
from lake.signals import ALL_SIGNALS, SIGNALS, Signal
from tasks import config, template
from verify.otlp_post import METRIC_POINTS, request


def test_every_signal_has_a_contract_a_mapping_and_a_request_path():
    for sig in SIGNALS:
        assert schemas.load(sig.name).signal == sig.name
        assert sig.name in PLANS
        assert f"/{sig.path}" in MAPPERS
        assert (sig.metric is None) == (sig.path != "v1/metrics"), sig
    assert set(signals.METRIC_SIGNALS.values()) == {s.name for s in SIGNALS if s.metric}


@pytest.mark.parametrize("name", ALL_SIGNALS)
def test_the_verify_request_of_each_signal_maps_to_one_row_of_its_own_table(name):
    sig = signals.signal_of(name)
    path = f"/{sig.path}"
    media = decode.media_type("application/x-protobuf")
    assert media is not None
    message = decode.parse(path, media, request(name, "run-a"))
    rows = MAPPERS[path](message, ALL_SIGNALS, Received(0, 0))
    assert {s: len(r) for s, r in rows.records.items()} == {name: 1}
    assert json.loads(rows.records[name][0])["service_instance_id"] == "run-a"


def test_an_unknown_metric_data_field_raises_instead_of_building_another_kind(monkeypatch):
    summary = Signal("summary", "v1/metrics", metric="summary")
    monkeypatch.setitem(signals.BY_NAME, "summary", summary)
    assert "summary" not in METRIC_POINTS
    with pytest.raises(ValueError, match="no request for metric data 'summary'"):
        request("summary", "run-a")
    with pytest.raises(KeyError, match="unknown signal 'nope'"):
        request("nope", "run-a")


def test_the_config_the_template_and_the_defaults_read_the_registry():
    everything = config.load("local", {"signals": ",".join(ALL_SIGNALS)})
    assert everything.signals == ALL_SIGNALS
    assert config.load("local").signals == signals.DEFAULT_SIGNALS
    outputs = template.output_keys(everything)
    for sig in SIGNALS:
        assert f"{sig.camel}TableName" in outputs
