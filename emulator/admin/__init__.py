"""The ``/_emulator/`` admin API (routes.py) and what it sets: faults, options, the caller's identity."""
