"""The integration's imports run one way: no cycle, down the layers, HA-free where promised.

Every `import` and `from ... import` of every module counts, wherever it stands: under
`if TYPE_CHECKING:` and inside functions too (a cycle of type-only imports is still a cycle of
dependencies, and the next run-time import along it breaks the package). The layers are the
ones documented in `custom_components/powershare/__init__.py`.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

PACKAGE = "custom_components.powershare"
INTEGRATION = Path(__file__).resolve().parents[2] / "custom_components" / "powershare"

LAYERS: tuple[frozenset[str], ...] = tuple(
    frozenset(layer)
    for layer in (
        {"engine", "devices", "peak", "planner"},
        {"const", "schedule", "profiles"},
        {"settings", "repairs", "tariffs", "charging_goals"},
        {"solar_forecast"},  # reads its periods' moments as `tariffs` does
        {"entity_charger"},
        {"connection"},
        {"coordinator"},
        {"balancing"},
        {"hub"},
        {"entity", "charger_sensors", "peak_sensors"},
        {"session_sensors", "plan_entities"},
        {
            "binary_sensor",
            "button",
            "datetime",
            "time",
            "number",
            "select",
            "sensor",
            "switch",
            "services",
            "diagnostics",
            "config_flow",
        },
        {"plan_services"},  # the plan's actions, beside the others (`services`)
        {""},  # the integration's own __init__
    )
)
"""Bottom first: a module may import only from layers below its own (or from its own unit)."""
HA_FREE = ("engine", "devices", "peak", "planner")


# -- the checker ---------------------------------------------------------------------------


def discover(root: Path, package: str) -> dict[str, Path]:
    """Return every module below `root` by dotted name (a package is named by its folder)."""
    modules: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join((package, *parts))] = path
    return modules


def statements(path: Path, module: str) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Yield (module named, names imported from it) for every import statement in `path`."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            yield _absolute(node, module, is_package=is_package), tuple(a.name for a in node.names)


def _absolute(node: ast.ImportFrom, module: str, *, is_package: bool) -> str:
    """Resolve a relative import against the importing module."""
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]  # a module's `.` is its package; a package's `.` is itself
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def _targets(base: str, names: tuple[str, ...], modules: Mapping[str, Path]) -> set[str]:
    """Return the modules one statement imports (`from pkg import sub` imports `pkg.sub`)."""
    found = {f"{base}.{name}" for name in names if f"{base}.{name}" in modules}
    if len(found) < len(names) or not names:
        found.add(base)  # some name is an attribute of `base` itself (or `import base`)
    return found


def _known(name: str, modules: Mapping[str, Path]) -> str | None:
    """Return the module `name` is in (`pkg.mod.Class` is in `pkg.mod`), if it is one of ours."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _with_packages(target: str, importer: str, modules: Mapping[str, Path]) -> Iterator[str]:
    """Yield `target` and the packages Python runs first to import it.

    Importing `pkg.mod` runs `pkg/__init__` first, unless the importer is inside `pkg` (then
    `pkg` is already being imported: that edge would be a cycle of every package with itself).
    """
    yield target
    parts = target.split(".")
    for end in range(1, len(parts)):
        package = ".".join(parts[:end])
        inside = importer == package or importer.startswith(f"{package}.")
        if package in modules and not inside:
            yield package


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Return, for every module below `root`, the modules of the same tree it imports."""
    modules = discover(root, package)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        edges: set[str] = set()
        for base, names in statements(path, module):
            for target in _targets(base, names, modules):
                known = _known(target, modules)
                if known is not None:
                    edges.update(_with_packages(known, module, modules))
        edges.discard(module)
        graph[module] = edges
    return graph


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """Return one cycle of `graph` (its first node repeated at the end), or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        path.append(node)
        for following in sorted(graph.get(node, ())):
            if following in path:
                return [*path[path.index(following) :], following]
            if following not in done and (cycle := visit(following)) is not None:
                return cycle
        path.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        if node not in done and (cycle := visit(node)) is not None:
            return cycle
    return None


def unit(module: str) -> str:
    """Return the top-level module or subpackage of the integration `module` belongs to."""
    return module.removeprefix(PACKAGE).lstrip(".").partition(".")[0]


# -- the integration -----------------------------------------------------------------------


def test_no_import_cycle() -> None:
    graph = import_graph(INTEGRATION, PACKAGE)
    assert len(graph) > 20
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or ())


def test_imports_point_down_the_layers() -> None:
    layer_of = {name: index for index, layer in enumerate(LAYERS) for name in layer}
    graph = import_graph(INTEGRATION, PACKAGE)
    unplaced = sorted({unit(module) for module in graph} - layer_of.keys())
    assert not unplaced, f"modules in no layer (add them to LAYERS and the docs): {unplaced}"
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        for target in targets
        if unit(target) != unit(module) and layer_of[unit(target)] >= layer_of[unit(module)]
    )
    assert not upward, f"imports that do not point down the layers: {upward}"


def test_engine_and_devices_stay_home_assistant_free() -> None:
    modules = discover(INTEGRATION, PACKAGE)
    graph = import_graph(INTEGRATION, PACKAGE)
    for module, path in modules.items():
        own = unit(module)
        if own not in HA_FREE:
            continue
        bases = {base for base, _names in statements(path, module)}
        assert not {b for b in bases if b.partition(".")[0] == "homeassistant"}, module
        outside = {target for target in graph[module] if unit(target) != own}
        assert not outside, f"{module} imports outside {own}/: {sorted(outside)}"
        other = "devices" if own == "engine" else "engine"
        assert not {target for target in graph[module] if unit(target) == other}, module


# -- the checker can fail ------------------------------------------------------------------


def test_find_cycle_reports_the_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


def _write(root: Path, files: Mapping[str, str]) -> None:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")


def test_every_kind_of_import_counts(tmp_path: Path) -> None:
    _write(
        tmp_path / "pkg",
        {
            "__init__.py": "from .a import A\n",
            "a.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B\nA = 1\n"
            ),
            "b.py": "def f():\n    from . import c\n    return c\n",
            "c.py": "import pkg.sub.leaf\n",
            "d.py": "from .sub import leaf, not_a_module\n",
            "sub/__init__.py": "",
            "sub/leaf.py": "import os\nfrom ..a import A\n",
        },
    )
    graph = import_graph(tmp_path / "pkg", "pkg")
    assert graph == {
        "pkg": {"pkg.a"},
        "pkg.a": {"pkg.b"},
        "pkg.b": {"pkg.c"},
        "pkg.c": {"pkg.sub", "pkg.sub.leaf"},
        "pkg.d": {"pkg.sub", "pkg.sub.leaf"},
        "pkg.sub": set(),
        "pkg.sub.leaf": {"pkg.a"},
    }
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.c", "pkg.sub.leaf", "pkg.a"]


def test_a_cycle_through_a_package_init_is_found(tmp_path: Path) -> None:
    _write(
        tmp_path / "pkg",
        {
            "__init__.py": "",
            "top.py": "from .sub.leaf import X\n",
            "sub/__init__.py": "from ..top import Y\n",
            "sub/leaf.py": "X = 1\n",
        },
    )
    assert find_cycle(import_graph(tmp_path / "pkg", "pkg")) == ["pkg.sub", "pkg.top", "pkg.sub"]
