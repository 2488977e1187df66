"""The protocol package's public names are pinned, and it imports only rolegate.errors, botocore and stdlib."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import rolegate.protocol

PACKAGE = Path(rolegate.protocol.__file__).parent


def test_public_names_are_pinned() -> None:
    assert sorted(rolegate.protocol.__all__) == [
        "Response",
        "Violation",
        "as_aws_error",
        "check_json_input",
        "check_query_input",
        "decode_form",
        "error_class",
        "json_error_response",
        "json_operation",
        "json_response",
        "model_error",
        "operation_model",
        "parse_copy_source",
        "parse_json_request",
        "parse_query",
        "parse_s3_request",
        "query_error_response",
        "query_operation",
        "query_response",
        "s3_error_response",
        "s3_response",
        "service_model",
        "split_bucket_host",
        "violations",
    ]
    for name in rolegate.protocol.__all__:
        assert hasattr(rolegate.protocol, name)


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_imports_stay_inside_the_layer() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        for module in _imported_modules(path):
            top = module.split(".")[0]
            allowed = (
                module == "rolegate.errors"
                or module.startswith("rolegate.protocol")
                or top == "botocore"
                or top in sys.stdlib_module_names
            )
            assert allowed, f"{path.name} imports {module}"
