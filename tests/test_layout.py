"""The house rules, read from the code's imports: the base imports no feature, no feature
imports another feature's views, and no two features import each other."""
import ast
from pathlib import Path

import pytest

from crm import FEATURES

CRM = Path(__file__).resolve().parents[1] / "crm"
BASE = ("security", "jobs", "audit", "common", "navigation", "features", "extensions", "forms",
        "normalise", "web", "toasts", "downloads")
# the features other than the base (jobs is both: a base module with its own routes)
NAMES = [name.split(".")[1] for name in FEATURES if name.split(".")[1] not in BASE]


def imports(path: Path) -> set[str]:
    """Every crm module the file imports (at any depth of the file)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m.startswith("crm.")}


def package(module: str) -> str:
    return module.split(".")[1]


def files_of(name: str):
    place = CRM / name
    return sorted(place.rglob("*.py")) if place.is_dir() else [CRM / f"{name}.py"]


def feature_imports() -> dict[str, set[str]]:
    """{feature: the other features it imports}."""
    return {name: {package(m) for f in files_of(name) for m in imports(f)
                   if package(m) in NAMES and package(m) != name} for name in NAMES}


@pytest.mark.parametrize("base", [b for b in BASE if (CRM / b).exists()
                                  or (CRM / f"{b}.py").exists()])
def test_the_base_imports_no_feature(base):
    used = {m for f in files_of(base) for m in imports(f) if package(m) in NAMES}
    assert not used, f"crm.{base} imports features: {sorted(used)}"


def test_no_feature_imports_another_features_views():
    wrong = sorted(f"{path.relative_to(CRM)} imports {m}" for name in NAMES
                   for path in files_of(name) for m in imports(path)
                   if package(m) != name and m.split(".")[-1].endswith("views"))
    assert not wrong


def test_no_two_features_import_each_other():
    graph = feature_imports()
    both = sorted({tuple(sorted((a, b))) for a, used in graph.items() for b in used
                   if a in graph.get(b, ())})
    assert not both, f"features importing each other: {both}"
