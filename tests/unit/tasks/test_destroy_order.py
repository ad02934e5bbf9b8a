"""destroy's order is the deploy graph read in reverse (tasks/destroy.py): no AWS call here."""

from __future__ import annotations

import dataclasses

from lake.signals import ALL_SIGNALS
from tasks import config
from tasks.destroy import reverse_waves
from tasks.step import Teardown
from tasks.steps import all_steps


def _names(waves):
    return [[s.name for s in wave] for wave in waves]


def test_streams_then_readers_then_grants_then_the_stack_emerge_from_the_edges():
    cfg = dataclasses.replace(config.load("local"), signals=ALL_SIGNALS)
    waves = _names(reverse_waves(all_steps(cfg)))
    assert waves == [[f"stream_{s}" for s in ALL_SIGNALS], ["readers"], ["grants"], ["stack"]]


def test_account_level_steps_are_never_torn_down_and_a_new_step_finds_its_place():
    cfg = config.load("local")
    steps = all_steps(cfg)
    nothing: Teardown[None] = Teardown(lambda ctx: None, lambda what: [], lambda ctx, what: None)
    # give every step a teardown: the account's are still left out, the rest follow their dependents
    torn = [dataclasses.replace(s, teardown=nothing) for s in steps]
    waves = _names(reverse_waves(torn))
    flat = [n for wave in waves for n in wave]
    assert not {s.name for s in steps if s.scope == "account"} & set(flat)
    assert {"lf_role", "lf_admins", "lf_resource", "catalog", "catalog_grant", "artifacts_bucket"} <= {
        s.name for s in steps if s.scope == "account"
    }
    position = {n: i for i, wave in enumerate(waves) for n in wave}
    for step in torn:
        for dep in step.deps:
            if dep in position and step.name in position:
                assert position[step.name] < position[dep], (step.name, dep)
