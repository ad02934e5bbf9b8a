"""The OTLP/HTTP receiver: OpenTelemetry logs, spans and metric points into the env's Firehose streams.

decode (OTLP/HTTP bodies into opentelemetry-proto messages), mapping (messages into the rows of
config/schemas/), deliver (rows into the streams through lake/firehose.py), app (the request -> response
core), server (a local HTTP server). No doit here: the same code runs locally and as a Lambda handler.
"""
