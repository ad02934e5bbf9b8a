"""Code shared by the doit tasks (tasks/) and the OTLP receiver (ingest/): neither imports the other's CLI.

Nothing here imports doit, so the receiver can run as a plain server or a Lambda handler.
"""
