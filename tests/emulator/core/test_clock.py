"""The local AWS's clock: a fault moves it forward and runs what fell due; clearing it sets it back."""

from __future__ import annotations

import time
import urllib.error

import pytest

from emulator.core import clock


def test_the_clock_fault_moves_time_forward_and_runs_the_hooks_once(emulator):
    seen: list[float] = []
    hook = clock.on_advance(seen.append)
    try:
        before = clock.now()
        emulator.set_faults({"clock": {"offset_seconds": 86_400}})
        assert clock.now() - before >= 86_400
        assert len(seen) == 1 and seen[0] >= before + 86_400
        emulator.set_faults({"clock": {"offset_seconds": 86_400}})  # not forward: nothing runs
        assert len(seen) == 1
        emulator.clear_faults()
        assert abs(clock.now() - time.time()) < 5
        assert len(seen) == 1
    finally:
        clock.remove_hook(hook)


@pytest.mark.parametrize("spec", [{"offset_seconds": -1}, {"offset_seconds": "1"}, {"days": 1}])
def test_a_bad_clock_fault_is_refused(emulator, spec):
    with pytest.raises(urllib.error.HTTPError) as caught:
        emulator.set_faults({"clock": spec})
    assert caught.value.code == 400
    assert "clock" in caught.value.read().decode()
