"""`rolegate policy validate|evaluate|example` and `rolegate demo`: the engine's command line.

Exit statuses follow grep/diff: 0 for a positive answer (valid, Allowed), 1 for a negative one (invalid,
denied), 2 when the command could not answer (unreadable file, not a request). Input is read as bytes and
handed to the engine, so encoding problems are reported in the engine's words, never as a traceback.
Errors print as `PATH: MESSAGE` (PolicyError's own form); one about the whole document has no path.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from rolegate.policy import (
    Decision,
    PolicyError,
    PolicyKind,
    authorize,
    load_request,
    render_json,
    render_text,
    validate_policy,
)

KINDS = tuple(kind.value for kind in PolicyKind)
EXAMPLE_PREFIX = re.compile(r"^\d+-")

VALIDATE_EPILOG = """\
FILE may be - to read the policy from standard input.

exit status:
  0  the policy is valid for its kind
  1  the policy has errors (each printed as PATH: MESSAGE)
  2  the file could not be read or the arguments are wrong
"""

EVALUATE_EPILOG = """\
REQUEST is a JSON request as described in docs/request-format.md (- reads standard input).
`rolegate policy example` lists bundled requests to start from.

exit status:
  0  the decision is Allowed
  1  the decision is a deny (ExplicitDeny or ImplicitDeny)
  2  the request could not be read or is not a valid request (each error printed as PATH: MESSAGE)
"""

DEMO_EPILOG = """\
exit status:
  0  every example gave the decision and gate it expects
  1  at least one example did not
"""


@dataclass(frozen=True, slots=True)
class Example:
    """One bundled request: its short name (file stem without the ordering prefix), text and parsed data."""

    name: str
    text: str
    data: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.data.get("title", self.name))

    @property
    def expected(self) -> tuple[str, str]:
        expected = self.data.get("expected", {})
        return str(expected.get("decision", "")), str(expected.get("gate", ""))


def configure_policy(parser: argparse.ArgumentParser) -> None:
    """Add the `policy` subcommands (validate, evaluate, example) to their parent parser."""
    commands = parser.add_subparsers(dest="policy_command", required=True, metavar="COMMAND")
    raw = argparse.RawDescriptionHelpFormatter

    validate = commands.add_parser(
        "validate",
        help="report every error of a policy document for its kind",
        epilog=VALIDATE_EPILOG,
        formatter_class=raw,
    )
    validate.add_argument("file", metavar="FILE", help="the policy document (JSON), or - for standard input")
    validate.add_argument(
        "--kind", required=True, choices=KINDS, metavar="KIND", help=f"where the policy is used: {', '.join(KINDS)}"
    )
    validate.add_argument("--json", action="store_true", help='print {"valid": ..., "errors": [...]} as JSON')
    validate.set_defaults(handler=run_validate)

    evaluate = commands.add_parser(
        "evaluate",
        help="decide a request and explain which gate and statement decided",
        epilog=EVALUATE_EPILOG,
        formatter_class=raw,
    )
    evaluate.add_argument("request", metavar="REQUEST", help="the request file (JSON), or - for standard input")
    evaluate.add_argument("--json", action="store_true", help="print the decision and explanation as JSON")
    evaluate.set_defaults(handler=run_evaluate)

    example = commands.add_parser("example", help="list the bundled example requests, or print one")
    example.add_argument("name", metavar="NAME", nargs="?", help="the example to print (omit to list them)")
    example.set_defaults(handler=run_example)


def configure_demo(parser: argparse.ArgumentParser) -> None:
    """`rolegate demo` takes no arguments; its help explains the exit status."""
    parser.epilog = DEMO_EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.set_defaults(handler=run_demo)


def run_validate(args: argparse.Namespace) -> int:
    """Validate one document; every error is listed so a user fixes them all in one pass."""
    source = _read_source(args.file)
    if source is None:
        return 2
    kind = PolicyKind(args.kind)
    errors = validate_policy(source, kind)
    if args.json:
        print(json.dumps({"valid": not errors, "errors": _errors_json(errors)}, indent=2))
    elif errors:
        for error in errors:
            print(error)
        count = f"{len(errors)} error{'s' if len(errors) > 1 else ''}"
        print(f"rolegate: invalid {kind.value} policy: {count}", file=sys.stderr)
    else:
        print(f"valid {kind.value} policy")
    return 1 if errors else 0


def run_evaluate(args: argparse.Namespace) -> int:
    """Decide one request file and print the explanation; the exit status carries the verdict for scripts."""
    source = _read_source(args.request)
    if source is None:
        return 2
    data, problem = _parse_json(source)
    if problem:
        print(f"rolegate: cannot read the request {_shown(args.request)}: {problem}", file=sys.stderr)
        return 2
    loaded = load_request(data)
    if loaded.errors or loaded.context is None or loaded.policies is None:
        _report_request_errors(args.request, loaded.errors, as_json=args.json)
        return 2
    decision = authorize(loaded.context, loaded.policies)
    print(render_json(decision) if args.json else render_text(decision))
    return 0 if decision.allowed else 1


def run_example(args: argparse.Namespace) -> int:
    """List the bundled requests, or print one so it can be saved, edited and evaluated."""
    examples = bundled_examples()
    if args.name is None:
        width = max((len(e.name) for e in examples), default=0)
        for example in examples:
            print(f"{example.name:<{width}}  {example.title}")
        print(
            "\nprint one with `rolegate policy example NAME`; "
            "decide it with `rolegate policy example NAME | rolegate policy evaluate -`",
            file=sys.stderr,
        )
        return 0
    found = find_example(examples, args.name)
    if found is None:
        names = ", ".join(e.name for e in examples)
        print(f"rolegate: no bundled example named {args.name!r}; the examples are: {names}", file=sys.stderr)
        return 2
    sys.stdout.write(found.text)
    return 0


def run_demo(args: argparse.Namespace) -> int:
    """Decide every bundled example with its explanation: the engine's tour until the server exists."""
    examples = bundled_examples()
    passed = 0
    for number, example in enumerate(examples, start=1):
        print(f"== {number}/{len(examples)} {example.name}: {example.title}")
        passed += _demo_one(example)
        print()
    print(f"{passed}/{len(examples)} examples gave their expected decision")
    return 0 if passed == len(examples) else 1


def _demo_one(example: Example) -> bool:
    decision = _decide(example.data)
    want_decision, want_gate = example.expected
    if isinstance(decision, tuple):
        print(f"invalid example ({len(decision)} errors):")
        print("\n".join(f"  {e}" for e in decision))
        return False
    got_decision, got_gate = decision.result.value, decision.gate.value
    ok = (got_decision, got_gate) == (want_decision, want_gate)
    verdict = "as expected" if ok else f"MISMATCH, expected {want_decision} ({want_gate})"
    print(f"decision: {got_decision} by the {got_gate} gate ({verdict})")
    print(render_text(decision))
    return ok


def _decide(data: Any) -> Decision | tuple[PolicyError, ...]:
    loaded = load_request(data)
    if loaded.errors or loaded.context is None or loaded.policies is None:
        return loaded.errors
    return authorize(loaded.context, loaded.policies)


def bundled_examples() -> list[Example]:
    """The example requests shipped in rolegate/examples, in file-name order (the files are numbered)."""
    folder = resources.files("rolegate").joinpath("examples")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".json")), key=lambda f: f.name)
    examples = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        name = EXAMPLE_PREFIX.sub("", file.name.removesuffix(".json"))
        examples.append(Example(name, text, json.loads(text)))
    return examples


def find_example(examples: list[Example], name: str) -> Example | None:
    """Accept the short name, the numbered file stem or the file name, since users copy whichever they see."""
    wanted = EXAMPLE_PREFIX.sub("", name.removesuffix(".json"))
    return next((e for e in examples if e.name == wanted), None)


def _read_source(path: str) -> bytes | None:
    """The raw bytes of FILE or stdin, or None after a one-line message (the caller exits 2)."""
    try:
        return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        print(f"rolegate: cannot read {_shown(path)}: {reason}", file=sys.stderr)
        return None


def _shown(path: str) -> str:
    return "standard input" if path == "-" else path


def _parse_json(source: bytes) -> tuple[Any, str]:
    """The parsed JSON and an empty problem, or a one-line problem (the caller exits 2)."""
    try:
        return json.loads(source), ""
    except UnicodeDecodeError:
        return None, "it is not valid UTF-8"
    except json.JSONDecodeError as error:
        return None, f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
    except RecursionError:
        return None, "the JSON is nested too deeply"


def _report_request_errors(path: str, errors: tuple[PolicyError, ...], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"valid": False, "errors": _errors_json(errors)}, indent=2))
        return
    print(f"rolegate: invalid request {_shown(path)}:", file=sys.stderr)
    for error in errors:
        print(f"  {error}", file=sys.stderr)


def _errors_json(errors: tuple[PolicyError, ...]) -> list[dict[str, str]]:
    return [{"path": e.path, "message": e.message} for e in errors]
