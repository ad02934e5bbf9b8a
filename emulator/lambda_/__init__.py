"""Lambda that runs Python zips without docker: Invoke, Function URLs and their CloudFormation types.

Importing this package registers the handlers (responses.py), the reset hook (every worker stops on
``POST /_emulator/reset``), the start hook (the endpoint the workers call back) and the stop hook (every
worker stops with the server); ``urls.handle`` serves ``/_lambda-url/`` (a mount of emulator/app.py).
"""

from __future__ import annotations

from emulator.core import registry
from emulator.lambda_ import models, responses, runtime

__all__ = ["models", "responses", "runtime", "stop_workers"]


def stop_workers() -> None:
    """End every worker process (the server stops)."""
    runtime.POOL.stop_all()


registry.register_reset(models.reset)
registry.register_start(models.set_endpoint)
registry.register_stop(stop_workers)
