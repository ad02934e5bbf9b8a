"""doit entry point: it only gathers the task creators from tasks/.

Each tasks/cli_*.py module owns one group of user-facing tasks; see README.md for the commands.
"""

import re
from pathlib import Path

from doit import get_var

# Task creators (doit collects every `task_*` name in this module).
from tasks.cli_deploy import task_deploy, task_destroy, task_plan, task_send, task_status  # noqa: F401
from tasks.cli_doctor import task_doctor  # noqa: F401
from tasks.cli_emulator import task_emulator, task_emulator_stop  # noqa: F401
from tasks.cli_ingest import task_ingest, task_ingest_stop  # noqa: F401
from tasks.cli_package import task_package  # noqa: F401
from tasks.cli_query import task_query, task_tables  # noqa: F401
from tasks.cli_template import task_template  # noqa: F401
from tasks.config import normalize_env
from tasks.reporter import Reporter

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
    "dep_file": str(
        _DEP_DIR / f"{re.sub(r'[^a-z0-9_-]', '_', normalize_env(get_var('env', 'local') or 'local'))}.json"
    ),
    "backend": "json",
    "verbosity": 2,
    # doit's own `.  task` lines go to stderr when format=json|csv, so stdout is only the document.
    "reporter": Reporter,
}
