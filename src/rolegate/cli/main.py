"""Entry point of the `rolegate` command: the subcommand table, argument parsing and exit statuses."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable

from rolegate import __version__

Handler = Callable[[argparse.Namespace], int]

# name, one-line help, and "module:function" that adds the command's arguments and sets its `handler` default.
# Modules are imported only for the command being run: `rolegate assume --credential-process`, which SDKs run
# on every refresh, must not pay for the server stack.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("policy", "validate, evaluate and explain IAM policies with the local engine", "policy:configure_policy"),
    ("demo", "evaluate every bundled example request and explain each decision", "policy:configure_demo"),
    ("serve", "run the enforcing IAM, STS, Organizations and S3 endpoint", "serve:configure_serve"),
    (
        "explain",
        "explain a denied request by its request id (which gate, which statement)",
        "explain:configure_explain",
    ),
    ("revoke-sessions", "revoke every session of a role issued until now", "revoke:configure_revoke"),
    ("assume", "assume a role: export, write a profile, run a command, or serve SDKs", "assume:configure_assume"),
)

DESCRIPTION = (
    "rolegate: try and debug AWS cross-account access (sts:AssumeRole, trust policies, permission policies, "
    "boundaries, session policies, SCPs) on your own machine."
)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command tree, built fresh on each call so tests and embedders never share parser state; with
    `only`, just that command's arguments are configured (the others are listed with their help)."""
    parser = argparse.ArgumentParser(prog="rolegate", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"rolegate {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text, target in COMMANDS:
        subparser = commands.add_parser(name, help=help_text, description=help_text)
        if only is None or only == name:
            module, function = target.split(":")
            configure: Callable[[argparse.ArgumentParser], None] = getattr(
                importlib.import_module(f"rolegate.cli.{module}"), function
            )
            configure(subparser)
    return parser


def _command_of(argv: list[str]) -> str | None:
    names = {name for name, _, _ in COMMANDS}
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return first if first in names else None


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit status (0 success, 1 a negative answer, 2 a usage error)."""
    parser = build_parser(_command_of(sys.argv[1:] if argv is None else argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:  # argparse exits for --help, --version and usage errors
        return _status(exit_request.code)
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `rolegate demo | head`: the reader left, which is not an error of ours
        _discard_stdout()
        return 1


def _status(code: str | int | None) -> int:
    if code is None:
        return 0
    return code if isinstance(code, int) else 2


def _discard_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not complain about the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout may not be a real file (captured in tests)
        pass


if __name__ == "__main__":
    sys.exit(main())
