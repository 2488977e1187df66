"""The policy engine imports only the standard library and itself (rolegate.policy.*), checked on the source."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import rolegate.policy

PACKAGE_DIR = Path(rolegate.policy.__file__).parent
SOURCES = sorted(PACKAGE_DIR.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool) -> list[str]:
    """Absolute names of every module imported anywhere in `source` (also inside functions and TYPE_CHECKING)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.append(node.module or "")
                continue
            base = module.split(".")
            if not is_package:
                base = base[:-1]
            base = base[: len(base) - (node.level - 1)]
            if node.module:
                found.append(".".join([*base, node.module]))
            else:  # `from . import x`: each name is a module (or an attribute) of the package
                found.extend(".".join([*base, alias.name]) for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            found.append("<dynamic import>")
    return found


def violations(source: str, module: str, is_package: bool) -> list[str]:
    bad = []
    for name in imported_modules(source, module, is_package):
        top = name.split(".")[0]
        if top == "rolegate":
            if name != "rolegate.policy" and not name.startswith("rolegate.policy."):
                bad.append(name)
        elif top not in sys.stdlib_module_names:
            bad.append(name)
    return bad


def test_the_package_has_sources() -> None:
    assert len(SOURCES) >= 10
    assert PACKAGE_DIR / "__init__.py" in SOURCES
    assert PACKAGE_DIR / "conditions" / "__init__.py" in SOURCES


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(PACKAGE_DIR).as_posix())
def test_engine_imports_only_the_standard_library_and_itself(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert violations(source, module_name(path), path.name == "__init__.py") == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import json, re\nfrom collections.abc import Mapping", ["json", "re", "collections.abc"]),
        ("def f():\n    import hypothesis", ["hypothesis"]),
        ("from rolegate.cli import main", ["rolegate.cli"]),
        ("from . import wildcard", ["rolegate.policy.conditions.wildcard"]),
        ("from .. import parse", ["rolegate.policy.parse"]),
        ("from ..match import applies", ["rolegate.policy.match"]),
        ("from ... import cli", ["rolegate.cli"]),
        ("import importlib\nimportlib.import_module('yaml')", ["importlib", "<dynamic import>"]),
    ],
)
def test_the_import_collector(source: str, expected: list[str]) -> None:
    """The checker itself must see third-party, out-of-engine and relative imports (inside a subpackage module)."""
    assert imported_modules(source, "rolegate.policy.conditions.strings", False) == expected


def test_violations_are_reported() -> None:
    assert module_name(PACKAGE_DIR / "conditions" / "strings.py") == "rolegate.policy.conditions.strings"
    assert module_name(PACKAGE_DIR / "conditions" / "__init__.py") == "rolegate.policy.conditions"
    source = (
        "import json\nimport requests\nfrom rolegate.cli.main import main\nfrom rolegate.policy import parse\n"
        "from . import arns\nfrom .. import match\nfrom ... import cli\nimport rolegate\n"
    )
    expected = ["requests", "rolegate.cli.main", "rolegate.cli", "rolegate"]
    assert violations(source, "rolegate.policy.conditions", True) == expected
    assert violations(source, "rolegate.policy.conditions.strings", False) == expected
    assert violations("from .. import cli", "rolegate.policy.parse", False) == ["rolegate.cli"]
