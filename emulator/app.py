"""The local AWS's composition root: the services it runs and the paths it answers itself.

``emulator/core/`` is the server and the dispatcher, and imports no service (the principle of moto's
``backends.py``): a service registers itself as it is imported. Its handlers go to the registry
(``@register(service, Operation)``), and so do its reset, flush, start and stop hooks (registry.py). Its
patches of moto apply at import. This module imports every service, and lists the mounts: the path
prefixes whose requests go to our own WSGI handlers instead of the AWS API.

To add a service: make ``emulator/<service>/`` (``models.py`` state, ``responses.py`` handlers,
``exceptions.py`` errors) whose ``__init__.py`` imports ``responses``, then add it to ``SERVICES`` below. A
new HTTP front that is not an AWS API is one more ``Mount``. ``python -m emulator``,
``emulator.testing.in_process_emulator()`` and the tool's background emulator all start here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from emulator import (
    athena,
    cloudformation,
    cloudwatch,
    firehose,
    glue,
    iam,
    lakeformation,
    lambda_,
    s3,
    s3tables,
    scheduler,
)
from emulator.admin import identity
from emulator.admin import routes as admin_routes
from emulator.core import state
from emulator.core.server import EmulatorApp, Mount, Server
from emulator.lambda_ import urls as lambda_urls
from emulator.s3tables import rest as iceberg_rest

# The services. Importing a package registers its handlers and hooks, and patches moto where it must.
SERVICES = (
    athena,  # query executions on DuckDB over the Iceberg tables, under Lake Formation; workgroups
    cloudformation,  # our stack engine and the resource types moto lacks
    cloudwatch,  # metric alarms, evaluated on the local AWS's clock, and their SNS actions
    firehose,  # Iceberg destinations, delivered into real Iceberg tables
    glue,  # Glue catalogs and the federated s3tablescatalog
    iam,  # trust policies as AWS takes them; a function's calls judged by its role
    identity,  # STS GetCallerIdentity: the caller the admin API sets
    lakeformation,  # resources, settings, grants
    lambda_,  # Python zips run in worker processes, Function URLs
    s3,  # secure transport, checksums, lifecycle on the clock
    s3tables,  # what moto's S3 Tables lacks, backed by the Iceberg store
    scheduler,  # EventBridge Scheduler's schedules fired on the local AWS's clock
)

MOUNTS = (
    Mount("/_emulator/", admin_routes.handle, admin=True, bare=True),  # the admin API (admin/routes.py)
    Mount("/_lambda-url/", lambda_urls.handle, any_origin=True),  # Function URLs (lambda_/urls.py)
    Mount("/iceberg/", iceberg_rest.handle),  # the S3 Tables Iceberg REST endpoint (s3tables/rest.py)
)


def make_app() -> EmulatorApp:
    """The WSGI app of every service above, with the mounts."""
    return EmulatorApp(MOUNTS)


class EmulatorServer(Server):
    """The local AWS on 127.0.0.1 (``port=0``: a free port); its data dir is emptied on start."""

    def __init__(
        self,
        port: int = state.DEFAULT_PORT,
        data_dir: str | os.PathLike[str] | None = None,
        allowed_hosts: Iterable[str] = (),
    ) -> None:
        super().__init__(make_app, port, data_dir, allowed_hosts)
