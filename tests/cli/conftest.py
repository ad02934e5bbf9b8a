"""tests/cli/: the tool against the shared ``emulator`` fixture: commands/ (one file per command), steps/
(deploy steps end to end), ingest/ (the receiver and the Lambda handler), verify/ and bench/. Command lines
run in-process through tests/deploy_helpers.py doit(); what several folders share is in *_helpers.py here.
"""
