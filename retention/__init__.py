"""Retention: the rows of every whole UTC day older than a table's window are dropped, by metadata alone.

One run drops, per table, every `day(timestamp)` partition older than the window with one Iceberg commit: a
DELETE snapshot whose manifests mark those days' data files deleted. No data file is read or rewritten, the
same rows go every time, and nothing inside the window is touched. S3 Tables' snapshot expiry and
unreferenced-file removal then reclaim the files (docs/retention.md has the timeline).

The same code runs as `doit retention env=E` (tasks/cli/retention.py, with the caller's credentials) and as
the env's retention function, invoked daily by its schedule (lambda_handler.py). It imports only lake/ of
ours and pyiceberg's Avro manifest readers and writers (no pyarrow), so the function's zip stays small.

Modules: windows.py (the windows and the cutoff day, pure), fileio.py (the table's files: S3 or local
disk), drop.py (which data files a cutoff drops, and the delete commit), run.py (a run over the env's
tables: retries on a concurrent commit, what it dropped, the log lines), metrics.py (what a run publishes
to CloudWatch), lambda_handler.py (the scheduled function).
"""
