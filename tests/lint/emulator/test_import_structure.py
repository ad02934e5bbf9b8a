"""The local AWS's import structure: no circles, core/ knows no service, no private name crosses a module.

Read from the source with ``ast`` (nothing is imported), every import counted: module level, inside
functions and under ``TYPE_CHECKING`` alike, since each is a dependency a reader must follow.
``from pkg import name`` depends on ``pkg.name`` when that is a module, else on ``pkg``. A service
registers itself in emulator/app.py; core/ is the server and the dispatcher (moto's ``backends.py``
principle), so it imports nothing of the emulator outside core/.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tools.layers import circles

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = "emulator"


@dataclass
class Module:
    name: str
    path: Path
    imports: set[str] = field(default_factory=set)  # modules of PACKAGE it imports
    private_uses: list[str] = field(default_factory=list)  # "line: module._name" it reaches into


def _module_names(root: Path, package: str) -> dict[str, Path]:
    out = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _owner(name: str, known: dict[str, Path]) -> str | None:
    """The module of ours that ``name`` (a module or a name in one) lives in."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def read_modules(root: Path = ROOT, package: str = PACKAGE) -> dict[str, Module]:
    """Every module of ``package`` under ``root`` with what it imports of ``package``."""
    known = _module_names(root, package)
    modules = {name: Module(name, path) for name, path in known.items()}
    for mod in modules.values():
        tree = ast.parse(mod.path.read_text(), filename=str(mod.path))
        here = mod.name.split(".") if mod.path.name == "__init__.py" else mod.name.split(".")[:-1]
        aliases: dict[str, str] = {}  # local name -> module of ours it is bound to
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    target = _owner(alias.name, known)
                    if target is not None and alias.name.startswith(package + "."):
                        mod.imports.add(target)
                        if alias.asname:
                            aliases[alias.asname] = target
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(here[: len(here) - node.level + 1] + ([base] if base else []))
                if base != package and not base.startswith(package + "."):
                    continue
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    if full in known:
                        mod.imports.add(full)
                        aliases[alias.asname or alias.name] = full
                        continue
                    target = _owner(base, known)
                    if target is not None:
                        mod.imports.add(target)
                        if _private(alias.name) and target != mod.name:
                            mod.private_uses.append(f"{node.lineno}: from {base} import {alias.name}")
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and _private(node.attr)
                and aliases[node.value.id] != mod.name
            ):
                mod.private_uses.append(f"{node.lineno}: {aliases[node.value.id]}.{node.attr}")
        mod.imports.discard(mod.name)
    return modules


def package_of(module: str) -> str:
    """``emulator.firehose.models`` -> ``emulator.firehose``; a top-level module is its own package."""
    parts = module.split(".")
    return ".".join(parts[:2])


def package_graph(modules: dict[str, Module]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for mod in modules.values():
        mine = package_of(mod.name)
        graph.setdefault(mine, set()).update(
            package_of(t) for t in mod.imports if package_of(t) not in (mine, PACKAGE)
        )
    return graph


def _edges(modules: dict[str, Module], part: list[str]) -> Iterator[str]:
    for name in part:
        for target in sorted(modules[name].imports & set(part)):
            yield f"{name} -> {target}"


@pytest.fixture(scope="module")
def modules() -> dict[str, Module]:
    return read_modules()


def test_no_module_imports_itself_round_a_circle(modules: dict[str, Module]) -> None:
    found = circles({name: mod.imports for name, mod in modules.items()})
    assert not found, "import circles:\n" + "\n".join(", ".join(_edges(modules, part)) for part in found)


def test_no_package_imports_itself_round_a_circle(modules: dict[str, Module]) -> None:
    assert not circles(package_graph(modules)), package_graph(modules)


def test_core_imports_no_service(modules: dict[str, Module]) -> None:
    """moto's backends.py principle: services register themselves, emulator/app.py imports them."""
    reached = {
        f"{name} -> {target}"
        for name, mod in modules.items()
        if package_of(name) == f"{PACKAGE}.core"
        for target in mod.imports
        if package_of(target) != f"{PACKAGE}.core"
    }
    assert not reached, sorted(reached)


def test_no_private_name_crosses_a_module(modules: dict[str, Module]) -> None:
    uses = [f"{mod.path.relative_to(ROOT)}:{use}" for mod in modules.values() for use in mod.private_uses]
    assert not uses, uses


def test_every_service_is_in_the_composition_root(modules: dict[str, Module]) -> None:
    """A service package that app.py does not import would never register its handlers."""
    infrastructure = {"core", "admin", "iceberg"}  # the server, its admin API, a store services share
    services = {
        package_of(name)
        for name in modules
        if name.count(".") == 1 and modules[name].path.name == "__init__.py"
    } - {f"{PACKAGE}.{p}" for p in infrastructure}
    app = modules[f"{PACKAGE}.app"].imports
    assert services <= {package_of(t) for t in app}, sorted(services - {package_of(t) for t in app})


def test_the_reader_sees_circles() -> None:
    """The check itself: a circle of three and a circle of packages are found, a chain is not."""
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": {"c"}}) == []
