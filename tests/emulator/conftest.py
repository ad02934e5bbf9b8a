"""tests/emulator/<service>/: the local AWS itself, one folder per service, with real boto3 clients over HTTP.

Shared by them: helpers.py (the setup by hand with boto3) and streams.py (stream reads and out-of-band
changes, also used by tests/cli/ and tests/reliability/).
"""
