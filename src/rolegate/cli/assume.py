"""`rolegate assume ROLE`: the argparse layer over `rolegate.client` (all behaviour lives there)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from rolegate.client import (
    SHELLS,
    STALE,
    AssumeOptions,
    Assumer,
    ClientProblem,
    RefreshingSource,
    SessionCache,
    UsageError,
    build_plan,
    credential_process,
    default_cache_dir,
    detect_shell,
    environment,
    export_lines,
    load_policy,
    load_profiles,
    parse_duration,
    parse_tag,
    raw_json,
    run_command,
    summary,
    write_profile,
)
from rolegate.client.assume import Prompt
from rolegate.client.errors import AssumeError
from rolegate.client.output import ASSUMED_ROLE_VAR

DEPTH_VAR = "ROLEGATE_ASSUME_DEPTH"  # guards against a credential_process that ends up calling itself
MAX_DEPTH = 4
EPILOG = """\
output (one mode; without one, a summary without secrets is printed):
  --export              shell lines:  eval "$(rolegate assume prod --export)"
  --profile NAME        write profile NAME into ~/.aws/credentials (0600, other profiles untouched)
  --exec CMD ...        run CMD with credentials served and renewed by a local endpoint
  --credential-process  the JSON a profile's credential_process must print
  --json                the AssumeRole result, as `aws sts assume-role` prints it

exit status: 0 success (or the --exec command's status), 1 refused by STS or unreachable, 2 usage error
"""


class _AssumeParser(argparse.ArgumentParser):
    """argparse never lets an option's REMAINDER start with `--`, yet `--exec -- CMD ...` is the form users
    know (aws-vault, env); so the `--` right after `--exec` is dropped before parsing."""

    def parse_known_args(  # type: ignore[override]  # same behaviour, narrower types than typeshed's overloads
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        words = list(sys.argv[1:] if args is None else args)
        if "--exec" in words:
            at = words.index("--exec")
            if words[at + 1 : at + 2] == ["--"]:
                del words[at + 1]
        return super().parse_known_args(words, namespace)


def configure_assume(parser: argparse.ArgumentParser) -> None:
    parser.__class__ = _AssumeParser  # the subcommand table creates plain parsers; see _AssumeParser
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("role", nargs="?", metavar="ROLE", help="a role ARN or a profile name from ~/.aws/config")
    request = parser.add_argument_group("the AssumeRole request")
    request.add_argument("--source-profile", metavar="NAME", help="profile whose credentials assume a role ARN")
    request.add_argument("--external-id", metavar="ID", help="the ExternalId the role's trust policy expects")
    request.add_argument("--duration", metavar="SECONDS", help="session length, 900-43200 (1 hour when chained)")
    request.add_argument("--session-name", metavar="NAME", help="RoleSessionName (default: the caller's name)")
    request.add_argument("--mfa-serial", metavar="ARN", help="MFA device serial number or ARN")
    request.add_argument("--mfa-token", metavar="CODE", help="the 6-digit MFA code (prompted for when missing)")
    request.add_argument("--policy", metavar="FILE|JSON", help="a session policy (inline JSON, file:// or a path)")
    request.add_argument("--policy-arn", metavar="ARN", action="append", default=[], help="a managed session policy")
    request.add_argument("--tag", metavar="KEY=VALUE", action="append", default=[], help="a session tag")
    request.add_argument("--transitive-tag", metavar="KEY", action="append", default=[], help="a transitive tag key")
    request.add_argument("--source-identity", metavar="ID", help="SourceIdentity, kept through role chaining")
    request.add_argument("--chain", metavar="ROLE", action="append", default=[], help="then assume ROLE (repeatable)")
    request.add_argument("--region", help="the STS region (default: profile, AWS_REGION, us-east-1)")
    request.add_argument("--endpoint-url", metavar="URL", help="the STS endpoint (default: profile, AWS_ENDPOINT_URL)")
    modes = parser.add_argument_group("output").add_mutually_exclusive_group()
    modes.add_argument("--export", action="store_true", help="print shell lines that export the credentials")
    modes.add_argument("--profile", metavar="NAME", help="write the credentials as profile NAME")
    modes.add_argument("--exec", dest="command", nargs=argparse.REMAINDER, metavar="CMD", help="run CMD as the role")
    modes.add_argument("--credential-process", action="store_true", help="print credential_process JSON")
    modes.add_argument("--json", action="store_true", help="print the raw AssumeRole result")
    modes.add_argument("--clear-cache", action="store_true", help="remove every cached session and exit")
    extra = parser.add_argument_group("modifiers")
    extra.add_argument("--shell", choices=SHELLS, help="with --export: the shell syntax (default: from $SHELL)")
    extra.add_argument("--static", action="store_true", help="with --exec: plain variables, no renewal")
    extra.add_argument("--no-cache", action="store_true", help="neither read nor write the credential cache")
    extra.add_argument("--refresh", action="store_true", help="ignore cached credentials (the new ones are cached)")
    parser.set_defaults(handler=run_assume)


def run_assume(args: argparse.Namespace) -> int:
    try:
        if args.clear_cache:
            removed = SessionCache(default_cache_dir(os.environ)).clear()
            print(f"removed {removed} cached session{'s' if removed != 1 else ''}")
            return 0
        _check_usage(args)
        with _nested():
            return _assume(args)
    except UsageError as problem:
        _report(problem)
        return 2
    except ClientProblem as problem:
        _report(problem)
        return 1
    except OSError as error:  # a file we were asked to write or read
        print(f"rolegate assume: {error.strerror or error}: {error.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1


def _check_usage(args: argparse.Namespace) -> None:
    if not args.role:
        raise UsageError("ROLE is required (a role ARN or a profile name)")
    if args.command is not None and not args.command:
        raise UsageError("--exec needs a command: rolegate assume ROLE --exec -- CMD [ARGS...]")
    if args.shell and not args.export:
        raise UsageError("--shell applies to --export only")
    if args.static and args.command is None:
        raise UsageError("--static applies to --exec only")


def _options(args: argparse.Namespace) -> AssumeOptions:
    return AssumeOptions(
        role=args.role,
        source_profile=args.source_profile,
        external_id=args.external_id,
        duration=parse_duration(args.duration) if args.duration is not None else None,
        session_name=args.session_name,
        mfa_serial=args.mfa_serial,
        mfa_token=args.mfa_token,
        policy=load_policy(args.policy) if args.policy is not None else None,
        policy_arns=tuple(args.policy_arn),
        tags=tuple(parse_tag(tag) for tag in args.tag),
        transitive_tag_keys=tuple(args.transitive_tag),
        source_identity=args.source_identity,
        chain=tuple(args.chain),
        region=args.region,
        endpoint_url=args.endpoint_url,
    )


def _assume(args: argparse.Namespace) -> int:
    options = _options(args)
    profiles = load_profiles()
    plan = build_plan(options, profiles, os.environ)
    if options.mfa_token and not any(hop.mfa_serial for hop in plan.hops):
        raise UsageError("--mfa-token needs --mfa-serial (or mfa_serial in the profile)")
    for note in plan.notes:
        _notify(note)
    if plan.source.kind == "chain" and os.environ.get(ASSUMED_ROLE_VAR) and os.environ.get("AWS_SESSION_TOKEN"):
        _notify(f"the source is the role session in your environment ({os.environ[ASSUMED_ROLE_VAR]}): role chaining")
    cache = None if args.no_cache else SessionCache(default_cache_dir(os.environ))
    interactive = args.command is None and not args.credential_process
    assumer = Assumer(
        plan, profiles, cache=cache, mfa_token=options.mfa_token, prompt=_prompter(interactive), notify=_notify
    )
    session, cached = assumer.get(refresh=args.refresh)
    if args.command is not None:
        source = RefreshingSource(assumer, session)
        environ = {name: value for name, value in os.environ.items() if name != DEPTH_VAR}
        return run_command(args.command, source, plan, profiles, environ, _notify, static=args.static)
    if args.export:
        shell = args.shell or detect_shell(os.environ)
        print("\n".join(export_lines(environment(session, plan), STALE, shell)))
    elif args.profile:
        path = write_profile(args.profile, session, plan, profiles, os.environ)
        print(f"profile {args.profile} written to {path}: {summary(session, cached, assumer.now())}")
    elif args.credential_process:
        print(credential_process(session))
    elif args.json:
        print(raw_json(session))
    else:
        print(summary(session, cached, assumer.now()))
        _notify("use --export, --profile NAME, --exec -- CMD, --credential-process or --json to use them")
    return 0


def _prompter(allow_stdin: bool) -> Prompt:
    def prompt(serial: str) -> str:
        """Ask on the terminal (stdout may be captured by eval or an SDK); fall back to a piped stdin."""
        question = f"MFA code for {serial}: "
        try:
            with open("/dev/tty", "r+", encoding="utf-8") as tty:
                tty.write(question)
                tty.flush()
                return tty.readline().strip()
        except OSError:
            if not allow_stdin or sys.stdin is None:
                raise AssumeError(f"an MFA code is needed for {serial}", hint="pass --mfa-token CODE") from None
            print(question, end="", file=sys.stderr, flush=True)
            code = sys.stdin.readline().strip()
            if not code:
                raise AssumeError(f"an MFA code is needed for {serial}", hint="pass --mfa-token CODE") from None
            return code

    return prompt


@contextmanager
def _nested() -> Iterator[None]:
    """Count nested runs (a source profile whose credential_process runs rolegate assume) and stop a loop."""
    previous = os.environ.get(DEPTH_VAR)
    depth = int(previous) if previous and previous.isdigit() else 0
    if depth >= MAX_DEPTH:
        raise UsageError("rolegate assume is calling itself (a credential_process loop in the profiles?)")
    os.environ[DEPTH_VAR] = str(depth + 1)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(DEPTH_VAR, None)
        else:
            os.environ[DEPTH_VAR] = previous


def _notify(line: str) -> None:
    print(f"rolegate assume: note: {line}", file=sys.stderr)


def _report(problem: ClientProblem) -> None:
    lines = problem.lines()
    print(f"rolegate assume: {lines[0]}", file=sys.stderr)
    for line in lines[1:]:
        print(line, file=sys.stderr)
