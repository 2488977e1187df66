"""The `rolegate` command line: exit statuses, output formats, bundled examples and the docs examples."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rolegate import __version__
from rolegate.cli.main import main
from rolegate.cli.policy import bundled_examples

DOCS_EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
GATES = ("rcp", "scp", "resource", "trust", "identity", "boundary", "session")

VALID_IDENTITY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::222222222222:role/R"}],
}
IDENTITY_WITH_PRINCIPAL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}],
}


def _write(tmp_path: Path, name: str, content: Any) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return str(path)


def _example_file(tmp_path: Path, name: str) -> str:
    example = next(e for e in bundled_examples() if e.name == name)
    return _write(tmp_path, f"{name}.json", example.text)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"rolegate {__version__}"


@pytest.mark.parametrize("argv", [[], ["policy"], ["policy", "validate", "x.json"], ["nope"]])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage: rolegate" in capsys.readouterr().err


def test_validate_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "p.json", VALID_IDENTITY)
    assert main(["policy", "validate", path, "--kind", "identity"]) == 0
    assert capsys.readouterr().out == "valid identity policy\n"


def test_validate_reports_path_and_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "p.json", IDENTITY_WITH_PRINCIPAL)
    assert main(["policy", "validate", path, "--kind", "identity"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "Statement[0].Principal: Has prohibited field Principal\n"
    assert "invalid identity policy: 1 error" in captured.err


def test_validate_same_document_for_another_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "p.json", IDENTITY_WITH_PRINCIPAL)
    assert main(["policy", "validate", path, "--kind", "resource"]) == 0
    assert capsys.readouterr().out == "valid resource policy\n"


def test_validate_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "p.json", IDENTITY_WITH_PRINCIPAL)
    assert main(["policy", "validate", path, "--kind", "identity", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report == {
        "valid": False,
        "errors": [{"path": "Statement[0].Principal", "message": "Has prohibited field Principal"}],
    }
    valid = _write(tmp_path, "v.json", VALID_IDENTITY)
    assert main(["policy", "validate", valid, "--kind", "identity", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"valid": True, "errors": []}


def test_validate_non_utf8_is_reported_by_the_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "p.json", b'{"Version": "2012-10-17", "Statement": "\xff\xfe"}')
    assert main(["policy", "validate", path, "--kind", "trust"]) == 1
    captured = capsys.readouterr()
    assert "not valid UTF-8" in captured.out
    assert "Traceback" not in captured.out + captured.err


@pytest.mark.parametrize("name", ["missing.json", "."])
def test_validate_unreadable_file_exits_2(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["policy", "validate", name, "--kind", "identity"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"rolegate: cannot read {name}: ")
    assert "Traceback" not in captured.err


def test_validate_unknown_kind_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "p.json", VALID_IDENTITY)
    assert main(["policy", "validate", path, "--kind", "bucket"]) == 2
    assert "invalid choice: 'bucket'" in capsys.readouterr().err


def test_validate_reads_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(json.dumps(VALID_IDENTITY).encode()))
    monkeypatch.setattr(sys, "stdin", stdin)
    assert main(["policy", "validate", "-", "--kind", "boundary"]) == 0
    assert capsys.readouterr().out == "valid boundary policy\n"


def test_evaluate_allowed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _example_file(tmp_path, "cross-account-assume-role")
    assert main(["policy", "evaluate", path]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Allowed: arn:aws:iam::111111111111:user/natan -> sts:AssumeRole")
    assert "deciding statements: MyAppS3Access:Statement[0], MyS3Access-trust:DevAccountWithExternalId" in out


def test_evaluate_denied(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _example_file(tmp_path, "trust-source-ip-outside")
    assert main(["policy", "evaluate", path]) == 1
    out = capsys.readouterr().out
    assert out.startswith("ImplicitDeny: ")
    assert "deciding gate: role trust policy (trust)" in out
    assert "Condition.IpAddress.aws:SourceIp value_mismatch" in out


def test_evaluate_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _example_file(tmp_path, "scp-explicit-deny")
    assert main(["policy", "evaluate", path, "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert (result["decision"], result["gate"]) == ("ExplicitDeny", "scp")
    assert result["statements"] == [
        {"policy": "DenyAssumeRoleWithoutMFA", "sid": "RequireMFAToAssumeRoles", "index": 0}
    ]


def test_evaluate_invalid_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    request = {"principal": {"arn": "natan"}, "action": "AssumeRole", "policies": {"identity": [{"id": "x"}]}}
    path = _write(tmp_path, "r.json", request)
    assert main(["policy", "evaluate", path]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "principal.arn: The principal needs an IAM or STS ARN" in captured.err
    assert "action: The action must be a string of the form service:Name." in captured.err
    assert "policies.identity[0]: " in captured.err


def test_evaluate_invalid_request_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "r.json", [])
    assert main(["policy", "evaluate", path, "--json"]) == 2
    assert json.loads(capsys.readouterr().out) == {
        "valid": False,
        "errors": [{"path": "", "message": "The request must be a JSON object."}],
    }


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"{", "invalid JSON at line 1 column 2"), (b"\xff{}", "not valid UTF-8"), (b"[" * 100_000, "nested too deeply")],
)
def test_evaluate_unparsable_request(
    content: bytes, problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "r.json", content)
    assert main(["policy", "evaluate", path]) == 2
    err = capsys.readouterr().err
    assert problem in err
    assert "Traceback" not in err


def test_evaluate_null_request_is_invalid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "evaluate", _write(tmp_path, "r.json", "null")]) == 2
    assert "The request must be a JSON object." in capsys.readouterr().err


def test_example_listing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "example"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [line.split()[0] for line in lines]
    assert 8 <= len(names) <= 10
    assert names[0] == "cross-account-assume-role"
    assert "natan" in lines[0]


@pytest.mark.parametrize("name", ["cross-account-assume-role", "01-cross-account-assume-role.json"])
def test_example_prints_one(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "example", name]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["principal"]["arn"] == "arn:aws:iam::111111111111:user/natan"
    assert data["expected"] == {"decision": "Allowed", "gate": "identity"}


def test_example_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "example", "nope"]) == 2
    assert "no bundled example named 'nope'" in capsys.readouterr().err


def test_demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    count = len(bundled_examples())
    assert out.count("(as expected)") == count
    assert out.rstrip().endswith(f"{count}/{count} examples gave their expected decision")


@pytest.mark.parametrize("example", bundled_examples(), ids=lambda e: e.name)
def test_bundled_example_decides_as_expected(example: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "r.json", example.text)
    status = main(["policy", "evaluate", path, "--json"])
    result = json.loads(capsys.readouterr().out)
    assert (result["decision"], result["gate"]) == example.expected
    assert status == (0 if result["decision"] == "Allowed" else 1)


@pytest.mark.parametrize("gate", GATES)
def test_docs_example_is_decided_by_its_gate(gate: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = DOCS_EXAMPLES / f"{gate}.json"
    expected = json.loads(path.read_text(encoding="utf-8"))["expected"]
    status = main(["policy", "evaluate", str(path), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert (result["decision"], result["gate"]) == (expected["decision"], gate)
    assert status == (0 if expected["decision"] == "Allowed" else 1)
    readme = (DOCS_EXAMPLES / "README.md").read_text(encoding="utf-8")
    assert f"[{gate}.json]({gate}.json)" in readme
    assert f"{expected['decision']} ({gate})" in readme


def test_python_dash_m_runs_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rolegate", "policy", "example", "scp-explicit-deny"],
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["expected"]["gate"] == "scp"


def test_installed_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("rolegate")
    if not script.exists():
        pytest.skip("the rolegate console script is not installed next to this interpreter")
    demo = subprocess.run([str(script), "demo"], capture_output=True, check=False, timeout=60)
    assert demo.returncode == 0, demo.stderr
    missing = subprocess.run(
        [str(script), "policy", "validate", "missing.json", "--kind", "trust"],
        capture_output=True,
        check=False,
        timeout=60,
        cwd=tmp_path,
    )
    assert missing.returncode == 2
    assert missing.stderr.decode().startswith("rolegate: cannot read missing.json: ")
    assert b"Traceback" not in missing.stderr
