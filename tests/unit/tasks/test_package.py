"""The ingest Lambda zip (`doit package`, tasks/package.py).

One build per session (the `ingest_zip` fixture); the pip target is cached under build/lambda-deps/.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lake.signals import ALL_SIGNALS
from tasks import config as cfg
from tasks import package, paths
from tasks.ingest_lambda import build_target, default_runtime, python_runtimes
from tests.unit.tasks.template.helpers import DOIT, ROOT, no_credentials_env, recording_endpoint

HEAVY = ("doit", "jinja2", "cfnlint", "pyiceberg", "duckdb", "moto", "pyarrow", "uvicorn", "h11", "click")


def test_two_builds_give_the_same_bytes(ingest_zip: Any, tmp_path: Path) -> None:
    target = build_target(cfg.load("local").ingest.function, True)
    deps = package.install_deps(target, package.pins())  # cached: no pip run here
    first = package.write_zip(deps, tmp_path / "a.zip")
    for path in list(deps.rglob("*.py"))[:50]:  # file times are not part of the zip
        os.utime(path, (1_000_000_000, 1_000_000_000))
    second = package.write_zip(deps, tmp_path / "b.zip")
    assert first == second == ingest_zip.sha256
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert hashlib.sha256(ingest_zip.path.read_bytes()).hexdigest() == ingest_zip.sha256
    assert ingest_zip.path.name == f"ingest-{ingest_zip.sha256}.zip"


def test_entries_are_sorted_dated_and_without_bytecode(ingest_zip: Any) -> None:
    with zipfile.ZipFile(ingest_zip.path) as zf:
        infos = zf.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    files = [i for i in infos if not i.is_dir()]
    assert {(i.external_attr >> 16) for i in files} == {0o100644}
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n or n.startswith("bin/")]
    for wanted in ("ingest/lambda_handler.py", "ingest/app.py", "lake/firehose.py", "lake/schemas.py"):
        assert wanted in names
    assert {f"config/schemas/{s}.yaml" for s in ALL_SIGNALS} <= set(names)
    for dist in ("boto3", "botocore", "protobuf", "opentelemetry_proto", "pyyaml"):
        assert any(re.fullmatch(rf"{dist}-[^/]+\.dist-info/METADATA", n) for n in names), dist
    # Not in the zip: the deploy tool's own heavy dependencies.
    assert not [n for n in names if n.split("/")[0] in HEAVY]
    # Nor the local server: it needs uvicorn, which only `doit ingest` / `python -m tasks.receiver` use.
    assert not {"ingest/server.py", "ingest/asgi.py"} & set(names)
    # Nor the tool: our code in it is ingest/ and lake/, exactly the modules the package lists.
    assert not [n for n in names if n.split("/")[0] in ("tasks", "verify", "emulator", "bench")]
    ours = {n for n in names if n.endswith(".py") and n.split("/")[0] in ("ingest", "lake")}
    assert ours == {p.relative_to(ROOT).as_posix() for p in package.source_files() if p.suffix == ".py"}


def test_the_zip_alone_imports_the_handler(ingest_zip: Any, tmp_path: Path) -> None:
    """A fresh interpreter without site-packages (-I -S): only the zip and the standard library."""
    code = (
        "import sys; sys.path[:0] = [sys.argv[1]]\n"
        "import ingest.lambda_handler as h\n"
        "import lake.firehose  # what the cold start imports: the transport and the contract it reads\n"
        "from lake import schemas\n"
        "assert h.__file__.startswith(sys.argv[1]), h.__file__\n"
        "assert len(schemas.load('logs').columns) > 5\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {{*{HEAVY!r}, 'tasks'}}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, str(ingest_zip.path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "[]"


def test_up_to_date_until_a_source_changes(
    ingest_zip: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = cfg.load("local")
    mtime = ingest_zip.path.stat().st_mtime_ns
    assert package.ensure(config) == ingest_zip  # nothing rebuilt
    assert ingest_zip.path.stat().st_mtime_ns == mtime
    extra = package.BUILD_DIR / f"test-extra-source-{os.getpid()}.py"  # inside the repo, like a source
    extra.write_text("x = 1\n")
    request_cleanup = extra.unlink
    original = package.source_files
    monkeypatch.setattr(package, "source_files", lambda: [*original(), extra])
    try:
        assert package.current(config) is None  # a changed input: the next ensure() rebuilds
    finally:
        request_cleanup()


def test_a_build_says_what_it_builds_before_and_after(
    ingest_zip: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """A build takes seconds (a deploy sat 16 s without a word): a line before it and one when done, on
    stderr (the stdout of `plan format=json` is only its document); none when the zip is up to date."""
    monkeypatch.setattr(paths, "BUILD_DIR", tmp_path)  # a fresh build dir; the pip cache is the session's
    config = cfg.load("local")
    target = build_target(config.ingest.function, True)
    art = package.ensure(config)
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[0] == (
        f"building the ingest zip for env local ({target.runtime}, {target.architecture}) ..."
    )
    done = err.splitlines()[1]
    assert re.fullmatch(
        rf"built {re.escape(str(art.path))} \({art.path.stat().st_size} bytes\) in \d+\.\d s", done
    )
    assert art.sha256 == ingest_zip.sha256
    assert package.ensure(config) == art
    assert capsys.readouterr() == ("", "")


def test_lambda_pins_are_the_runtime_pins() -> None:
    doc = tomllib.loads(package.PYPROJECT.read_text())
    runtime = {
        re.split("[=\\[]", p)[0].lower(): p.split("==")[1]
        for p in doc["project"]["dependencies"]
        if "==" in p
    }
    for pin in package.pins():
        name, version = pin.split("==")
        assert re.fullmatch(r"[A-Za-z0-9_.-]+==[A-Za-z0-9.]+", pin), pin  # exact pins only
        if name.lower() in runtime:
            assert runtime[name.lower()] == version, pin


def test_default_runtime_is_the_newest_released_python() -> None:
    runtimes = python_runtimes()
    assert default_runtime() == runtimes[-1]
    assert all(r.startswith("python3.") for r in runtimes)
    assert cfg.load("prod").ingest.function.runtime == default_runtime()
    local = build_target(cfg.load("local").ingest.function, True)
    assert local.python_version == f"3.{sys.version_info.minor}"  # the local AWS runs it with this CPython


@pytest.mark.parametrize(
    ("setting", "value", "rule"),
    [
        ("ingest.runtime", "python2.7", "must be a Python runtime of Lambda"),
        ("ingest.runtime", "nodejs22.x", "must be a Python runtime of Lambda"),
        ("ingest.architecture", "aarch64", "must be arm64 or x86_64"),
    ],
)
def test_bad_build_settings_exit_2_before_any_call(
    tmp_path: Path, setting: str, value: str, rule: str
) -> None:
    cmd = [*DOIT, "--db-file", str(tmp_path / "deps.json"), "package", "env=prod", f"{setting}={value}"]
    with recording_endpoint() as rec:
        proc = subprocess.run(
            cmd, cwd=ROOT, env=no_credentials_env(rec.url), capture_output=True, text=True, timeout=120
        )
        assert rec.connections == []
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and f"{setting}={value!r}" in lines[0] and rule in lines[0], proc.stderr


@pytest.mark.parametrize(
    ("setting", "value", "rule"),
    [
        ("ingest.auth", "basic", "must be token"),
        ("ingest.enabled", "maybe", "must be true or false"),
        ("ingest.reserved_concurrency", "-1", "must be an integer >= 0"),
        ("ingest.memory_mb", "64", "must be an integer from 128 to"),
        ("ingest.memory_mb", "lots", "must be an integer from 128 to"),
    ],
)
def test_bad_function_settings_name_the_value_and_the_rule(setting: str, value: str, rule: str) -> None:
    with pytest.raises(cfg.UserError) as err:
        cfg.load("prod", {setting: value})
    message = str(err.value)
    assert message.startswith(f"error: {setting}=") and rule in message and "\n" not in message


def test_function_settings_from_the_command_line() -> None:
    fn = cfg.load(
        "prod",
        {
            "ingest.enabled": "false",
            "ingest.auth": "iam",
            "ingest.reserved_concurrency": "5",
            "ingest.memory_mb": "1024",
        },
    ).ingest.function
    assert (fn.enabled, fn.auth, fn.reserved_concurrency, fn.memory_mb) == (False, "iam", 5, 1024)
    assert (
        cfg.load("prod", {"ingest.reserved_concurrency": "null"}).ingest.function.reserved_concurrency is None
    )
