"""tests/cli/: the tool's commands end to end against the shared ``emulator`` fixture (deploy, plan, status,
send, destroy, doctor, verify, query, ingest). Shared helpers: verify_helpers.py, ingest_helpers.py and
tests/deploy_helpers.py; each file's fixtures stay in that file.
"""
