"""The Lambda zips, `build/ENV/ingest-<sha256>.zip` and `build/ENV/retention-<sha256>.zip`: deterministic,
rebuilt only when their inputs change.

The zip holds the handler's whole import closure: our modules (ingest/ and lake/: ingest/ imports only
lake/, tests/lint/test_layers.py keeps it so), the table contract (config/schemas/*.yaml, which
lake/schemas.py reads relative to itself) and the pinned wheels of pyproject's `lambda` extra,
boto3/botocore included (the local AWS offers only the zip and the standard library). Wheels come from `pip
install --platform ... --only-binary=:all: --target`, cached per (platform, python, pins) under
build/lambda-deps/, so a source change re-zips without reinstalling. Entries are sorted, dated 1980-01-01,
mode 0644, with no .pyc and no scripts: the same sources and pins always give the same bytes.

The retention function's zip (RETENTION) is built the same way from the `retention` and `lake` packages and
pyproject's `retention-lambda` extra: pyiceberg's Avro manifest readers and writers and what they import,
no pyarrow and no tasks/ module.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tasks.config import Config
from tasks.errors import StepFailed, eprint
from tasks.ingest_lambda import BuildTarget, build_target
from tasks.paths import BUILD_DIR, ROOT

PYPROJECT = ROOT / "pyproject.toml"
PACKAGER = Path(__file__).resolve()
DEPS_DIR = BUILD_DIR / "lambda-deps"
MANIFEST = "ingest.json"
# Our modules in the zip: the handler's import closure (tests/unit/tasks/test_package.py imports it from the
# zip alone).
PACKAGES = ("ingest", "lake")
# The local server (uvicorn, h11) and its entry point: never imported by the handler, so not in the zip.
LOCAL_ONLY = ("ingest/asgi.py", "ingest/server.py")
DATA_GLOBS = ("config/schemas/*.yaml",)
RETENTION_PACKAGES = ("retention", "lake")
_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Artifact:
    """A built zip: where it is, its sha256 (the S3 key's name) and what it was built for."""

    path: Path
    sha256: str
    target: BuildTarget

    def key(self, config: Config) -> str:
        return config.ingest_code_key(self.sha256)


@dataclass(frozen=True)
class Bundle:
    """One function's zip: its name (build/ENV/NAME-SHA256.zip, build/ENV/NAME.json), the pyproject extra
    holding its pins, and its sources (read at call time)."""

    name: str
    extra: str
    sources: Callable[[], list[Path]]

    @property
    def manifest(self) -> str:
        return f"{self.name}.json"


def source_files() -> list[Path]:
    """Our files in the ingest zip (doit's file_dep for `doit package`), sorted."""
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).glob("*.py")]
    files = [p for p in files if p.relative_to(ROOT).as_posix() not in LOCAL_ONLY]
    files += [p for g in DATA_GLOBS for p in ROOT.glob(g)]
    return sorted(files)


def retention_sources() -> list[Path]:
    """Our files in the retention zip: retention/ and lake/, nothing of tasks/."""
    return sorted(p for pkg in RETENTION_PACKAGES for p in (ROOT / pkg).glob("*.py"))


INGEST = Bundle("ingest", "lambda", lambda: source_files())
RETENTION = Bundle("retention", "retention-lambda", lambda: retention_sources())


def pins(bundle: Bundle = INGEST) -> tuple[str, ...]:
    """The bundle's pyproject extra (`lambda` for ingest): exact pins of everything the zip holds."""
    doc = tomllib.loads(PYPROJECT.read_text())
    return tuple(sorted(doc["project"]["optional-dependencies"][bundle.extra], key=str.lower))


def deps_key(target: BuildTarget, pinned: tuple[str, ...]) -> str:
    doc = {"platform": target.platform, "python": target.python_version, "impl": "cp", "pins": pinned}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:20]


def install_deps(target: BuildTarget, pinned: tuple[str, ...]) -> Path:
    """The pinned wheels unpacked for `target`, installed once per (platform, python, pins)."""
    out = DEPS_DIR / deps_key(target, pinned)
    if (out / ".complete").exists():
        return out
    DEPS_DIR.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=DEPS_DIR))
    cmd = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--no-deps", "--only-binary=:all:", "--implementation", "cp", "--python-version",
        target.python_version, "--platform", target.platform, "--target", str(tmp), *pinned,
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("ERROR")] or proc.stderr.splitlines()
        raise StepFailed(
            f"error: package: pip could not install the pinned wheels for {target.platform} / "
            f"CPython {target.python_version}: {(lines or ['no output'])[-1]}"
        )
    (tmp / ".complete").write_text(json.dumps({"pins": pinned, **target.to_dict()}, sort_keys=True))
    try:
        os.rename(tmp, out)
    except OSError:  # another build got there first: its copy is the same
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _entries(deps: Path, bundle: Bundle) -> dict[str, Path]:
    """arcname -> file: the wheels, then our files (ours win on a clash, there is none today)."""
    found: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(deps):
        rel_dir = Path(dirpath).relative_to(deps)
        # Console scripts (bin/) carry this machine's interpreter path; __pycache__ is never shipped.
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and (d, rel_dir) != ("bin", Path(".")))
        for name in filenames:
            if name.endswith(".pyc") or name == ".complete":
                continue
            found[(rel_dir / name).as_posix()] = Path(dirpath) / name
    for path in bundle.sources():
        found[path.relative_to(ROOT).as_posix()] = path
    return found


def write_zip(deps: Path, out: Path, bundle: Bundle = INGEST) -> str:
    """Write the zip to `out`; returns its sha256. Same inputs, same bytes."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{bundle.name}-", suffix=".zip", dir=out.parent)
    os.close(fd)
    entries = _entries(deps, bundle)
    # Directory entries too: zipimport finds namespace packages (google/, opentelemetry/) only by them.
    dirs = {p.as_posix() + "/" for name in entries for p in Path(name).parents if p != Path(".")}
    try:
        with zipfile.ZipFile(tmp, "w") as zf:
            for arcname in sorted(set(entries) | dirs):
                info = zipfile.ZipInfo(arcname, date_time=_EPOCH)
                info.create_system = 3  # unix, so the mode below is read
                if arcname in dirs:
                    info.external_attr = (0o40755 << 16) | 0x10
                    zf.writestr(info, b"")
                    continue
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, entries[arcname].read_bytes(), compresslevel=9)
        digest = hashlib.sha256(Path(tmp).read_bytes()).hexdigest()
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest


def fingerprint(config: Config, bundle: Bundle = INGEST) -> str:
    """What the zip depends on: target, pins and every source file's bytes."""
    target = build_target(config.ingest.function, config.is_local)
    h = hashlib.sha256(deps_key(target, pins(bundle)).encode() + PACKAGER.read_bytes())  # how, and from what
    for path in bundle.sources():
        h.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _manifest(config: Config, bundle: Bundle) -> Path:
    return config.build_dir / bundle.manifest


def current(config: Config, bundle: Bundle = INGEST) -> Artifact | None:
    """The built zip, when it is up to date with the sources (no build)."""
    try:
        doc = json.loads(_manifest(config, bundle).read_text())
    except (OSError, ValueError):
        return None
    path = config.build_dir / str(doc.get("zip", ""))
    if doc.get("fingerprint") != fingerprint(config, bundle) or not path.is_file():
        return None
    return Artifact(path, str(doc["sha256"]), BuildTarget(**doc["target"]))


def ensure(config: Config, bundle: Bundle = INGEST, say: Callable[[str], None] = eprint) -> Artifact:
    """The env's zip, built when missing or out of date (`doit package`, deploy, plan). A build takes
    seconds (a minute with the first pip install), so it says so before and after, on stderr by default:
    the stdout of `plan format=json` is only its document."""
    with _LOCK:
        found = current(config, bundle)
        if found is not None:
            return found
        began = time.monotonic()
        target = build_target(config.ingest.function, config.is_local)
        pinned = pins(bundle)
        fresh = not (DEPS_DIR / deps_key(target, pinned) / ".complete").exists()
        say(
            f"building the {bundle.name} zip for env {config.env} ({target.runtime}, {target.architecture})"
            + (f", installing the pinned wheels for {target.platform} first" if fresh else "")
            + " ..."
        )
        deps = install_deps(target, pinned)
        staging = config.build_dir / f"{bundle.name}-staging.zip"
        digest = write_zip(deps, staging, bundle)
        final = config.build_dir / f"{bundle.name}-{digest}.zip"
        os.replace(staging, final)
        for old in config.build_dir.glob(f"{bundle.name}-*.zip"):
            if old != final:
                old.unlink(missing_ok=True)
        doc = {
            "fingerprint": fingerprint(config, bundle),
            "sha256": digest,
            "zip": final.name,
            "target": target.to_dict(),
        }
        _manifest(config, bundle).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        say(f"built {final} ({final.stat().st_size} bytes) in {time.monotonic() - began:.1f} s")
        return Artifact(final, digest, target)
