"""Options and shared fixtures of the verification suite (`pytest verify/ --env ENV`).

pytest loads this file only when verify/ is on the command line, so `--env` and `--delivery-margin` are
registered here and a bare `pytest` (testpaths = tests) never sees them. Every fixture is session-scoped:
under `-n auto` each xdist worker builds its own, and no test depends on another test having run.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tasks import config as config_mod
from tasks.aws import Clients
from tasks.config import Config
from tasks.doctor import deploy_command
from tasks.errors import NotDeployed, UserError
from verify.facts import FINDING


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("verify", "verification of a deployed env")
    group.addoption("--env", default="local", help="env to verify (config/envs/ENV.yaml); default: local")
    group.addoption(
        "--delivery-margin",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long past the streams' buffering interval to wait for delivery (default 60)",
    )
    group.addoption(
        "--ingest",
        default=None,
        metavar="URL",
        help="also send an OpenTelemetry SDK batch through the receiver at URL (`doit ingest`'s endpoint)",
    )
    group.addoption(
        "--ingest-token",
        default=None,
        metavar="TOKEN",
        help="the receiver's bearer token (default: the token of the receiver `doit ingest` runs here when "
        "URL is its endpoint, else the env's ingest.token)",
    )
    group.addoption(
        "--probe-refusals",
        action="store_true",
        help="also send the fact probes' two records the table refuses: they put the stream's "
        "records-to-error-bucket alarm in ALARM for a minute (`doit status` unhealthy, and it notifies "
        "whoever alarms.email / alarms.topic_arn name)",
    )


def _load(pyconfig: pytest.Config) -> Config:
    try:
        cfg = config_mod.load(str(pyconfig.getoption("--env")))
        config_mod.check_env_file(cfg)  # verify reaches AWS: a mistyped env stops here
        return cfg
    except UserError as exc:  # bad input: one line, no AWS call
        raise pytest.UsageError(str(exc)) from None


def pytest_configure(config: pytest.Config) -> None:
    margin = config.getoption("--delivery-margin")
    if margin is not None and margin < 0:
        raise pytest.UsageError(f"error: --delivery-margin={margin} is invalid: must be >= 0 seconds")
    config.stash[_CONFIG_KEY] = _load(config)


_CONFIG_KEY = pytest.StashKey[Config]()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests that take `signal` run once per signal of the env, named e.g. `[logs]`."""
    if "signal" in metafunc.fixturenames:
        cfg = metafunc.config.stash[_CONFIG_KEY]
        metafunc.parametrize("signal", list(cfg.signals))


def ingest_disabled_reason(cfg: Config) -> str:
    """Why the Function URL's tests do not run: said on each skipped test and once in the summary."""
    return f"ingest disabled: ingest.enabled is false for env {cfg.env}, so the stack has no Function URL"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The receiver's tests run only against a receiver: without --ingest they are deselected. The
    Function URL's tests, in an env without `ingest.enabled`, are skipped with the reason: a check that did
    not run shows as skipped, never as passed or silently gone."""
    cfg = config.stash[_CONFIG_KEY]
    if not cfg.ingest.function.enabled:
        skip = pytest.mark.skip(reason=ingest_disabled_reason(cfg))
        for item in items:
            if "ingest_connection" in getattr(item, "fixturenames", ()):
                item.add_marker(skip)
    if config.getoption("--ingest"):
        return
    kept = [i for i in items if "ingest_endpoint" not in getattr(i, "fixturenames", ())]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """One line at the end of the report, so `-q` shows why the Function URL was not checked; and one
    line per probed fact: confirmed, differs or undetermined, with what was seen."""
    cfg = config.stash.get(_CONFIG_KEY, None)
    if cfg is not None and not cfg.ingest.function.enabled:
        terminalreporter.write_line(f"{ingest_disabled_reason(cfg)}: its checks were skipped")
    lines = sorted(
        str(value)
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", [])
        if name == FINDING
    )
    if lines:
        terminalreporter.section("facts not yet confirmed by AWS's documentation")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def probe_env(
    request: pytest.FixtureRequest,
    config: Config,
    clients: Clients,
    account_id: str,
    stack_outputs: dict[str, str],
    delivery_margin: float,
) -> Any:
    """The env as verify/probes.py sees it; the Function URL is read only when a probe asks. Records the
    table refuses are sent only with --probe-refusals."""
    from tasks.connect import read
    from verify.probes import ProbeEnv

    def connection() -> Any:
        return read(config, clients) if config.ingest.function.enabled else None

    refusals = bool(request.config.getoption("--probe-refusals"))
    return ProbeEnv(config, clients, account_id, stack_outputs, delivery_margin, connection, refusals)


@pytest.fixture(scope="session")
def ingest_endpoint(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--ingest")).rstrip("/")


@pytest.fixture(scope="session")
def ingest_token(request: pytest.FixtureRequest, config: Config, ingest_endpoint: str) -> str | None:
    """`--ingest-token`, else the running receiver's (`.emulator/ingest.json`) when the URL is its endpoint,
    else the env's `ingest.token`. A token the receiver refuses fails here at once, not after the delivery
    wait."""
    from tasks import receiver_ctl

    given = request.config.getoption("--ingest-token")
    token = given or receiver_ctl.token_for(ingest_endpoint) or config.ingest.token
    doc = receiver_ctl.health(ingest_endpoint, token)  # None: not our receiver (a Collector): send anyway
    if doc is not None and "rows_total" not in doc:  # its counts come only with the token it runs with
        pytest.fail(
            f"the receiver at {ingest_endpoint} refuses "
            + ("the token given" if token else "requests without a token")
            + ": pass --ingest-token TOKEN (`doit ingest` prints it)",
            pytrace=False,
        )
    return token


@pytest.fixture(scope="session")
def ingest_connection(config: Config, clients: Clients) -> Any:
    """The env's Function URL and its credentials, read as `doit connect` reads them (tasks/connect.py)."""
    from tasks.connect import read

    try:
        return read(config, clients)
    except (UserError, NotDeployed) as exc:  # no stack or no endpoint output: the line says which and why
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def config(request: pytest.FixtureRequest) -> Config:
    return request.config.stash[_CONFIG_KEY]


@pytest.fixture(scope="session")
def delivery_margin(request: pytest.FixtureRequest) -> float:
    return float(request.config.getoption("--delivery-margin"))


@pytest.fixture(scope="session")
def clients(config: Config) -> Clients:
    return Clients(config)


@pytest.fixture(scope="session")
def account_id(clients: Clients) -> str:
    return clients.account_id


@pytest.fixture(scope="session")
def stack(clients: Clients, config: Config) -> dict[str, Any]:
    """The env's CloudFormation stack as DescribeStacks returns it."""
    try:
        stacks = clients.cloudformation.describe_stacks(StackName=config.stack_name)["Stacks"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ValidationError":  # CloudFormation's code for a missing stack
            raise
        stacks = []
    if not stacks:  # failed outside the except: the report shows this line, not a chained traceback
        pytest.fail(f"stack {config.stack_name} does not exist: run `{deploy_command(config)}`")
    return dict(stacks[0])


@pytest.fixture(scope="session")
def stack_outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
