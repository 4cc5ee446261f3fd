"""No two top-level packages of the project import each other, imports inside functions included."""

from __future__ import annotations

import itertools
from pathlib import Path

import grimp
import pytest

PACKAGES = (
    "phonoglyph",
    "monitoring",
    "webhooks",
    "notifications",
    "accounts",
    "media",
    "analysis",
    "billing",
    "stems",
    "jobs",
    "telemetry",
    "core",
    "engine",
)


def _package_imports(graph: grimp.ImportGraph) -> dict[tuple[str, str], list[str]]:
    """Map (importer package, imported package) to the module-level lines that prove it."""
    edges: dict[tuple[str, str], list[str]] = {}
    for module in graph.modules:
        source = module.split(".")[0]
        for imported in graph.find_modules_directly_imported_by(module):
            target = imported.split(".")[0]
            if target != source and target in PACKAGES:
                edges.setdefault((source, target), []).append(f"{module} -> {imported}")
    return edges


def test_no_two_top_level_packages_import_each_other() -> None:
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    edges = _package_imports(graph)
    cycles = [
        f"{a} <-> {b}: {edges[(a, b)][0]}; {edges[(b, a)][0]}"
        for a, b in itertools.combinations(PACKAGES, 2)
        if (a, b) in edges and (b, a) in edges
    ]
    assert cycles == []


def test_an_import_inside_a_function_counts_as_an_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "cycle_probe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "upper.py").write_text("from cycle_probe import lower\n")
    (package / "lower.py").write_text("def late():\n    from cycle_probe import upper\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("cycle_probe", cache_dir=None)
    assert "cycle_probe.upper" in graph.find_modules_directly_imported_by("cycle_probe.lower")
