"""Code shared by the doit tasks (tasks/), the OTLP receiver (ingest/) and the local AWS (emulator/).

Nothing here imports doit, so the receiver can run as a plain server or a Lambda handler.
"""
