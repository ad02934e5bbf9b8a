"""The kernel: what the tool (tasks/), the OTLP receiver (ingest/) and the local AWS (emulator/) share.

The table contract and the signals, region and Lambda facts, the Firehose batch transport, deadlines and
backoff, boto3 sessions. It imports nothing of ours and no doit, so the receiver runs from it as a plain
server or a Lambda handler (the Lambda zip holds ingest/ and lake/ alone).
"""
