"""boto3 sessions that share one botocore data loader per process: the one way the tool, the local AWS's
test handle and the tests make a session.

A fresh botocore session parses endpoints.json and each service model it is asked for again, about 0.3 s
of JSON per client. One `doit` command makes one session and never notices; a process that makes many (the
in-process deploys of the reliability suite, every `emulator.client(...)` in the tests) spent most of its
time there. The models are read-only data, so one loader serves every session. Here, so the emulator never
imports tasks/.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import boto3
import botocore.session
from botocore.loaders import Loader, create_loader

_lock = threading.Lock()


@cache
def _loader(data_path: str | None) -> Loader:
    return create_loader(data_path)  # what a botocore session makes for itself (AWS_DATA_PATH included)


def session(**kwargs: Any) -> boto3.session.Session:
    """boto3.session.Session(**kwargs) on the process's shared loader."""
    core = botocore.session.get_session()
    loader = _loader(core.get_config_variable("data_path"))
    core.register_component("data_loader", loader)
    with _lock:
        made = boto3.session.Session(botocore_session=core, **kwargs)
        # boto3 appends its own data path to the loader of every session it makes: keep it once.
        loader.search_paths[:] = list(dict.fromkeys(loader.search_paths))
    return made
