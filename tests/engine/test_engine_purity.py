from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"
ALLOWED_ROOTS = {"engine", "essentia", "numpy", "imageio_ffmpeg"}


def test_importing_the_engine_loads_no_django() -> None:
    code = (
        "import sys, engine.pipeline; "
        "print(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    # Runs this interpreter on a constant snippet to get a clean module table.
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ENGINE.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert completed.stdout.strip().endswith("False")


def test_engine_imports_only_the_standard_library_essentia_numpy_and_itself() -> None:
    stdlib = set(sys.stdlib_module_names)
    for source in ENGINE.rglob("*.py"):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                roots = {node.module.split(".")[0]}
            else:
                continue
            foreign = roots - stdlib - ALLOWED_ROOTS
            assert not foreign, f"{source.name} imports {foreign}"
