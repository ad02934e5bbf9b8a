"""Lambda that runs Python zips without docker: Invoke, Function URLs and their CloudFormation types.

Importing this package registers the handlers (responses.py), the CloudFormation types (cfn.py) and the
reset hook (every worker stops on ``POST /_emulator/reset``); ``urls.handle`` serves ``/_lambda-url/``.
"""

from __future__ import annotations

import importlib.util

from emulator import overrides
from emulator.lambda_ import models, responses, runtime

__all__ = ["models", "responses", "runtime", "stop_workers"]


def stop_workers() -> None:
    """End every worker process (server stop)."""
    runtime.POOL.stop_all()


overrides.register_reset(models.reset)
if importlib.util.find_spec("emulator.lambda_.cfn") is not None:
    importlib.import_module("emulator.lambda_.cfn")
