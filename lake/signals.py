"""The signals: one row each, the one list every part reads (the config's choices, the receiver's mapping,
the template, verify's requests, query, the tests and bench).

A signal is a table (its contract: config/schemas/SIGNAL.yaml, lake/schemas.py), a Firehose stream, and
the OTLP/HTTP requests its rows come from: every log record (`v1/logs`), span (`v1/traces`), or data point
of one kind of metric (`v1/metrics`, the Metric's `data` field named here).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Signal:
    name: str  # the table's name, the stream's suffix, the value in `signals`
    path: str  # the OTLP/HTTP path its rows come on
    metric: str | None = None  # for a metric signal: the Metric's `data` field its data points are in
    default: bool = False  # in the default `signals` (config/defaults.yaml)

    @property
    def camel(self) -> str:
        """The name in CamelCase, as the template's logical ids and output keys use it: ExpHistogram."""
        return "".join(part.capitalize() for part in self.name.split("_"))


SIGNALS: tuple[Signal, ...] = (
    Signal("logs", "v1/logs", default=True),
    Signal("traces", "v1/traces", default=True),
    Signal("sum", "v1/metrics", metric="sum", default=True),
    Signal("gauge", "v1/metrics", metric="gauge", default=True),
    Signal("histogram", "v1/metrics", metric="histogram"),
    Signal("exp_histogram", "v1/metrics", metric="exponential_histogram"),
)

ALL_SIGNALS: tuple[str, ...] = tuple(s.name for s in SIGNALS)
DEFAULT_SIGNALS: tuple[str, ...] = tuple(s.name for s in SIGNALS if s.default)
BY_NAME: dict[str, Signal] = {s.name: s for s in SIGNALS}
# The Metric's data field -> the signal of its data points (OTLP's Summary has no table).
METRIC_SIGNALS: dict[str, str] = {s.metric: s.name for s in SIGNALS if s.metric}


def signal_of(name: str) -> Signal:
    """The row of `name`; an unknown name raises KeyError naming the known ones."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown signal {name!r}: must be one of {', '.join(ALL_SIGNALS)}") from None
