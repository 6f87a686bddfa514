"""Imports run one way: core <- domain apps <- config/demo. A newcomer can rely on it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = ["accounts", "customers", "policies", "claims", "documents", "compliance"]


def imported_top_packages(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize("package", ["core"])
def test_the_floor_imports_no_app(package):
    imports = imported_top_packages(package)
    offenders = {name: files for name, files in imports.items()
                 if name in DOMAIN + ["config", "demo"]}
    assert offenders == {}


@pytest.mark.parametrize("app", DOMAIN)
def test_no_domain_app_imports_the_roof(app):
    imports = imported_top_packages(app)
    offenders = {name: files for name, files in imports.items() if name in ("config", "demo")}
    assert offenders == {}
