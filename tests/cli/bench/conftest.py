"""tests/cli/bench/: bench/'s scripts run on a tiny size against the test emulator; no figure is asserted."""
