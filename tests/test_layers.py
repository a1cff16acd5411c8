"""The house rules, read from the code itself: every import runs downward, no package
imports one that imports it back, and no product module outgrows 300 lines.

Bottom to top: ``schedules`` (on-call and business-hours arithmetic, pure); ``workflows``
(the vocabulary, models, domain errors, lifecycle rules, the runbook kit and the workflows:
no I/O); ``security`` (signed links) and ``runbooks`` (authors' code, on the kit);
``store`` (the database); ``activities`` (side effects); ``services`` (settings, the
incident service, validation); ``simulation`` (runbooks run in simulated time);
``worker`` and ``api``; ``cli`` (the ``escalate`` command). The test and benchmark
harness (``harness``, ``bench``, ``tests``) sits outside the product.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ALLOWED: dict[str, set[str]] = {
    "workflows": {"schedules"},
    "schedules": set(),
    "security": {"workflows"},
    "runbooks": {"workflows", "schedules"},
    "store": {"workflows", "schedules", "runbooks"},
    "activities": {"workflows", "schedules", "security", "store"},
    "services": {"workflows", "schedules", "runbooks", "security", "store", "activities"},
    "worker": {"workflows", "schedules", "runbooks", "security", "store", "activities", "services"},
    "simulation": {"workflows", "schedules", "runbooks", "security", "store", "activities", "services"},
    "api": {
        "workflows",
        "schedules",
        "runbooks",
        "security",
        "store",
        "activities",
        "services",
        "simulation",
    },
    "cli": {
        "workflows",
        "schedules",
        "runbooks",
        "security",
        "store",
        "activities",
        "services",
        "worker",
        "api",
        "simulation",
    },
}
OUTSIDE = {"harness", "bench", "tests", "conftest"}
MAX_LINES = 300


def product_modules() -> list[tuple[str, Path]]:
    found = []
    for package in ALLOWED:
        single = ROOT / f"{package}.py"
        paths = [single] if single.exists() else sorted((ROOT / package).rglob("*.py"))
        found += [(package, path) for path in paths]
    return found


def imported_packages(path: Path) -> set[str]:
    """Top-level names of everything ``path`` imports, lazily or not, type-only included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


MODULES = product_modules()


@pytest.mark.parametrize(("package", "path"), MODULES, ids=[str(p.relative_to(ROOT)) for _, p in MODULES])
def test_imports_run_downward(package: str, path: Path) -> None:
    ours = (imported_packages(path) & (set(ALLOWED) | OUTSIDE)) - {package}
    upward = ours - ALLOWED[package]
    assert not upward, f"{path.relative_to(ROOT)} ({package}) imports {sorted(upward)}"


def test_the_layers_have_no_cycle() -> None:
    visiting: list[str] = []

    def visit(package: str) -> None:
        assert package not in visiting, f"cycle: {' -> '.join([*visiting, package])}"
        visiting.append(package)
        for lower in ALLOWED[package]:
            visit(lower)
        visiting.pop()

    for package in ALLOWED:
        visit(package)


@pytest.mark.parametrize(("package", "path"), MODULES, ids=[str(p.relative_to(ROOT)) for _, p in MODULES])
def test_no_module_is_over_300_lines(package: str, path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines"


def test_the_rules_see_every_product_package() -> None:
    declared = {name.split(".")[0] for name in _setuptools_packages()} | {"worker"}
    assert declared == set(ALLOWED)


def test_the_image_ships_every_product_package() -> None:
    copied = {
        line.split()[1].rstrip("/")
        for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
        if line.startswith("COPY ")
    }
    missing = {name.split(".")[0] for name in _setuptools_packages()} - copied
    assert not missing, f"the Dockerfile does not copy {sorted(missing)}"


def _setuptools_packages() -> list[str]:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["setuptools"]["packages"]
