"""The layer map of the project's packages, and everything that breaks it.

    .venv/bin/python tools/layers.py      # prints the map; exits 1 on a circle or a broken rule

Layers, lowest first: a module imports only modules of its own package or of a lower layer. Read from the
source (an AST walk of every module: imports inside functions and under TYPE_CHECKING count too), so
nothing is imported or run. Four rules, each checked for every module of the packages below:
- no import circle (modules that import each other, directly or round a loop);
- no upward import: nothing imports a package of its own layer or a higher one;
- nothing imports tests/ (tests/ may import anything);
- no `_private` name crosses a module boundary (`from m import _x`, or `m._x` on an imported module).
tests/lint/test_layers.py runs the same checks.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. Each entry: the packages of the layer and what they are.
LAYERS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("lake",), "the kernel: schemas, signals, region and Lambda facts, the Firehose transport, sessions"),
    (("ingest", "emulator", "retention"), "the OTLP receiver, the local AWS and the retention run, on lake/"),
    (("tasks",), "the tool: config, steps, commands; starts the local AWS and the receiver"),
    (("verify",), "the checks of a deployed env"),
    (("bench",), "the benchmarks"),
    (("dodo", "tools"), "doit's entry point and this map"),
)
TESTS = "tests"


def rank_of(package: str) -> int | None:
    for rank, (packages, _) in enumerate(LAYERS):
        if package in packages:
            return rank
    return None


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    imported: str  # dotted module name (ours or tests')
    line: int


@dataclass
class Report:
    modules: dict[str, Path] = field(default_factory=dict)
    imports: list[Import] = field(default_factory=list)
    circles: list[list[str]] = field(default_factory=list)
    upward: list[Import] = field(default_factory=list)
    into_tests: list[Import] = field(default_factory=list)
    private: list[str] = field(default_factory=list)  # "file:line: what"

    @property
    def broken(self) -> int:
        return len(self.circles) + len(self.upward) + len(self.into_tests) + len(self.private)


def _module_name(path: Path, root: Path = ROOT) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def product_files(root: Path = ROOT) -> Iterator[Path]:
    """Every module of the layered packages (tests/ is read only for what it is imported by)."""
    for packages, _ in LAYERS:
        for package in packages:
            single = root / f"{package}.py"
            if single.is_file():
                yield single
            for path in sorted((root / package).rglob("*.py")):
                if "__pycache__" not in path.parts:
                    yield path


def _resolve(name: str, known: set[str]) -> str | None:
    """The longest prefix of a dotted name that is one of our modules (or a module of tests/)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known or (parts[0] == TESTS and len(parts) <= 2):
            return candidate
        parts.pop()
    return None


def _package_of(module: str, modules: dict[str, Path]) -> str:
    """The package a module belongs to: itself when it is a package's __init__, else its parent."""
    path = modules.get(module)
    if path is not None and path.name == "__init__.py":
        return module
    return module.rpartition(".")[0]


def _imports_of(
    module: str, path: Path, modules: dict[str, Path], root: Path = ROOT
) -> tuple[list[Import], list[str]]:
    """The imports of one module (edges to our modules and tests/), and its private names taken across."""
    tree = ast.parse(path.read_text(), str(path))
    known = set(modules)
    package = _package_of(module, modules)
    found: list[Import] = []
    private: list[str] = []
    aliases: dict[str, str] = {}  # a local name bound to one of our modules -> that module
    where = path.relative_to(root).as_posix()

    def edge(target: str | None, line: int) -> None:
        if target is not None and target != module:
            found.append(Import(module, target, line))
            # Importing a.b.c outside package a.b runs a/b/__init__.py first: a dependency on it too.
            parent = target.rpartition(".")[0]
            while parent and parent in known and not module.startswith(parent + ".") and parent != module:
                found.append(Import(module, parent, line))
                parent = parent.rpartition(".")[0]

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve(alias.name, known)
                edge(target, node.lineno)
                if target is not None and alias.asname:
                    aliases[alias.asname] = target
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in known:  # `from tasks.steps import stack`: the module stack
                    edge(sub, node.lineno)
                    aliases[alias.asname or alias.name] = sub
                    if alias.name.startswith("_"):
                        private.append(f"{where}:{node.lineno}: imports the private module {sub}")
                    continue
                target = _resolve(base, known)
                edge(target, node.lineno)
                if target is not None and target != module and _is_private(alias.name):
                    private.append(f"{where}:{node.lineno}: imports {alias.name} from {target}")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and _is_private(node.attr)
        ):
            private.append(f"{where}:{node.lineno}: uses {aliases[node.value.id]}.{node.attr}")
    return found, private


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def circles(edges: dict[str, set[str]], modules: list[str] | None = None) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted; `modules` (default:
    the keys of `edges`) are where the search starts. The emulator's import-structure test uses it too."""
    modules = sorted(edges) if modules is None else modules
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        nonlocal counter
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))

    for module in modules:
        if module not in index:
            visit(module)
    return sorted(out)


def check(root: Path = ROOT) -> Report:
    report = Report()
    for path in product_files(root):
        report.modules[_module_name(path, root)] = path
    for module, path in report.modules.items():
        found, private = _imports_of(module, path, report.modules, root)
        report.imports += found
        report.private += private
    report.imports = sorted(set(report.imports), key=lambda i: (i.importer, i.line, -len(i.imported)))
    report.private = sorted(set(report.private))
    edges: dict[str, set[str]] = {}
    for imp in report.imports:
        top, target_top = imp.importer.split(".")[0], imp.imported.split(".")[0]
        if target_top == TESTS:
            report.into_tests.append(imp)
            continue
        edges.setdefault(imp.importer, set()).add(imp.imported)
        mine, theirs = rank_of(top), rank_of(target_top)
        upward = top != target_top and (mine is None or theirs is None or theirs >= mine)
        if upward and not any(u.importer == imp.importer and u.line == imp.line for u in report.upward):
            report.upward.append(imp)
    report.circles = circles(edges, sorted(report.modules))
    return report


def layer_map(report: Report) -> list[str]:
    """One line per layer, highest first, and one per package: its size and the packages it imports."""
    lines = []
    uses: dict[str, set[str]] = {}
    for imp in report.imports:
        a, b = imp.importer.split(".")[0], imp.imported.split(".")[0]
        if a != b:
            uses.setdefault(a, set()).add(b)
    for rank in range(len(LAYERS) - 1, -1, -1):
        packages, what = LAYERS[rank]
        lines.append(f"layer {rank}: {what}")
        for package in packages:
            count = sum(1 for m in report.modules if m.split(".")[0] == package)
            name = "dodo.py" if package == "dodo" else f"{package}/"
            below = ", ".join(sorted(uses.get(package, ()))) or "nothing of ours"
            lines.append(f"  {name:10} {count:3} modules; imports {below}")
    return lines


def _where(report: Report, imp: Import) -> str:
    return f"{report.modules[imp.importer].relative_to(ROOT).as_posix()}:{imp.line}"


def lines(report: Report) -> list[str]:
    """The map, then each rule with its count and every breach."""
    out = layer_map(report)
    out.append(f"{len(report.circles)} circles")
    out += [f"  circle of {len(c)}: {', '.join(c)}" for c in report.circles]
    out.append(f"{len(report.upward)} upward imports")
    out += [f"  {_where(report, i)}: {i.importer} imports {i.imported}" for i in report.upward]
    out.append(f"{len(report.into_tests)} imports of tests/")
    out += [f"  {_where(report, i)}: imports {i.imported}" for i in report.into_tests]
    out.append(f"{len(report.private)} private names taken across modules")
    out += [f"  {line}" for line in report.private]
    return out


def main() -> int:
    report = check()
    sys.stdout.write("\n".join(lines(report)) + "\n")
    return 1 if report.broken else 0


if __name__ == "__main__":
    sys.exit(main())
