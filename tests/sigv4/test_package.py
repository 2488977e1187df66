"""The sigv4 package's public surface and its import boundary (stdlib, rolegate.errors and rolegate.clock only)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import rolegate.sigv4

PACKAGE = Path(rolegate.sigv4.__file__).resolve().parent
ALLOWED_ROLEGATE = {"rolegate.errors", "rolegate.clock", "rolegate.digests"}  # leaf modules, standard library only


def test_public_names_are_pinned() -> None:
    assert sorted(rolegate.sigv4.__all__) == [
        "ChunkSigner",
        "CredentialScope",
        "HttpRequestView",
        "PayloadReader",
        "SignedCredentials",
        "VerifiedRequest",
        "chunked_reader",
        "parse_credentials",
        "s3_payload_reader",
        "sha256_file",
        "strip_aws_chunked",
        "verify",
        "verify_s3",
        "verify_sigv2",
    ]
    assert all(hasattr(rolegate.sigv4, name) for name in rolegate.sigv4.__all__)


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_imports_only_the_standard_library_and_leaf_modules() -> None:
    files = sorted(PACKAGE.glob("*.py"))
    assert {path.name for path in files} >= {"__init__.py", "canonical.py", "verify.py"}
    for path in files:
        for module in imported_modules(path):
            top = module.split(".")[0]
            allowed = (
                top in sys.stdlib_module_names or module in ALLOWED_ROLEGATE or module.startswith("rolegate.sigv4")
            )
            assert allowed, f"{path.name} imports {module}"
