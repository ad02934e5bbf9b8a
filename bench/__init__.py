"""Benchmark scripts (bench/run.py, bench/emulator.py): they print figures and assert none."""
