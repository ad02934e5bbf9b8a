"""The rendered templates the template tests share (each env x signal subset rendered once per process)."""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml

from lake.signals import ALL_SIGNALS
from tasks import config as cfg
from tasks import template

ENVS = ("local", "prod")
_ALL = ",".join(ALL_SIGNALS)
# The templates cfn-lint, checkov and parliament read: the template repeats one block per signal, so each
# signal alone and all of them together cover every block and how blocks sit beside each other; both
# envs; both ingest modes (token, iam) and none. Every one of the 63 signal combinations in both envs
# (126 templates) added no finding these do not give, at eight times the cost.
LINT_CASES: dict[str, tuple[str, dict[str, str]]] = {
    **{f"{env}-{name}": (env, {"signals": name}) for env in ENVS for name in ALL_SIGNALS},
    **{f"{env}-all": (env, {"signals": ",".join(ALL_SIGNALS)}) for env in ENVS},
    **{f"{env}-all-iam": (env, {"signals": ",".join(ALL_SIGNALS), "ingest.auth": "iam"}) for env in ENVS},
    **{
        f"{env}-all-no-ingest": (env, {"signals": ",".join(ALL_SIGNALS), "ingest.enabled": "false"})
        for env in ENVS
    },
}
ACCOUNT = "123456789012"
ALARM_TOPIC = "arn:aws:sns:us-east-1:123456789012:ops"
# Where the alarms notify (the shipped envs notify nobody): rendered too by the lint and checkov tests.
ALARM_VARIANTS: dict[str, tuple[str, dict[str, str]]] = {
    "email": ("prod", {"alarms.email": "ops@example.com"}),
    "email-no-ingest": ("local", {"alarms.email": "ops@example.com", "ingest.enabled": "false"}),
    "topic": ("prod", {"alarms.topic_arn": ALARM_TOPIC}),
    "nobody": ("local", {}),
    # A retention window: the retention function, its schedule and its two alarms (with ingest and without).
    "retention": ("prod", {"retention_days": "30", "retention.traces": "7", "alarms.topic_arn": ALARM_TOPIC}),
    "retention-no-ingest": ("local", {"retention_days": "30", "ingest.enabled": "false"}),
}


@cache
def _config(env: str, signals: tuple[str, ...]) -> cfg.Config:
    return cfg.load(env, {"signals": ",".join(signals)})


@cache
def _rendered(env: str, signals: tuple[str, ...]) -> str:
    return template.render(_config(env, signals))


@cache
def _lint_case(name: str) -> tuple[cfg.Config, str]:
    env, overrides = LINT_CASES[name]
    config = cfg.load(env, overrides)
    return config, template.render(config)


@cache
def _alarm_variant(name: str) -> tuple[cfg.Config, str]:
    env, overrides = ALARM_VARIANTS[name]
    config = cfg.load(env, overrides)
    return config, template.render(config)


def _doc(env: str, signals: tuple[str, ...]) -> dict[str, Any]:
    return yaml.safe_load(_rendered(env, signals))


@cache
def _cfnlint() -> tuple[Any, Any]:
    """cfn-lint's config and rules, built once per process (building them is most of a lint's cost)."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    config = ConfigMixIn(regions=["us-east-1"], include_checks=["I"])  # informational findings too
    return config, Runner(config).rules


def _lint(text: str) -> list[str]:
    from cfnlint.decode.decode import decode_str
    from cfnlint.runner import run_template_by_data

    config, rules = _cfnlint()
    tpl, errors = decode_str(text)
    if errors:
        return [str(e) for e in errors]
    return [str(m) for m in run_template_by_data(tpl, config, rules)]
