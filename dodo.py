"""doit entry point: it only gathers the task creators from tasks/.

Each tasks/cli/*.py module owns one command, and tasks/cli/args.py reads every doit variable;
see README.md for the commands.
"""

import re
from pathlib import Path

# Task creators (doit collects every `task_*` name in this module).
from tasks.cli import args
from tasks.cli.connect import task_connect  # noqa: F401
from tasks.cli.deploy import task_deploy  # noqa: F401
from tasks.cli.destroy import task_destroy  # noqa: F401
from tasks.cli.doctor import task_doctor  # noqa: F401
from tasks.cli.emulator import task_emulator, task_emulator_stop  # noqa: F401
from tasks.cli.ingest import task_ingest, task_ingest_stop  # noqa: F401
from tasks.cli.package import task_package  # noqa: F401
from tasks.cli.plan import task_plan  # noqa: F401
from tasks.cli.query import task_query  # noqa: F401
from tasks.cli.reporter import Reporter
from tasks.cli.retention import task_retention  # noqa: F401
from tasks.cli.send import task_send  # noqa: F401
from tasks.cli.status import task_status  # noqa: F401
from tasks.cli.tables import task_tables  # noqa: F401
from tasks.cli.template import task_template  # noqa: F401

_DEP_DIR = Path(__file__).parent / ".doit"
_DEP_DIR.mkdir(exist_ok=True)

DOIT_CONFIG = {
    # A bare `doit` only reads: it renders the template and shows the plan for env=local.
    "default_tasks": ["plan"],
    # The deploy graph's independent steps (account setup beside the stack, the streams beside
    # each other) run on threads: they wait on AWS, not on the CPU.
    "num_process": 8,
    "par_type": "thread",
    # One dep file per env, so `env=prod` and `env=local` never share doit state.
    "dep_file": str(_DEP_DIR / f"{re.sub(r'[^a-z0-9_-]', '_', args.env_name())}.json"),
    "backend": "json",
    "verbosity": 2,
    # doit's own `.  task` lines go to stderr when format=json|csv, so stdout is only the document.
    "reporter": Reporter,
}
