"""Athena: query executions run on DuckDB over the local S3 Tables' Iceberg tables, under Lake Formation,
with their results in the local S3; workgroups as Athena keeps them (importing this registers the handlers
and the reset hook that stops running queries)."""

from emulator.athena import responses, runner  # noqa: F401
