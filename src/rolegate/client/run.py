"""`--exec -- CMD ...`: run a command as the role, its credentials served by a local endpoint and renewed in
the background before they expire (so an MFA prompt, if a renewal needs one, comes before the child waits).

Signals: Ctrl-C reaches the child through the terminal's process group, so we ignore SIGINT while it runs and
forward SIGTERM and SIGHUP; our exit status is the child's (128 + N when signal N ended it).
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType

from rolegate.client.assume import Notify, RefreshingSource
from rolegate.client.config import Profiles
from rolegate.client.errors import ClientProblem
from rolegate.client.isolation import base_environment, default_profile_shadows, private_tempdir, unshadowed_files
from rolegate.client.model import Plan
from rolegate.client.output import environment, settings_environment
from rolegate.client.server import CredentialServer
from rolegate.client.windows import seconds_until_advisory

MAX_SLEEP = 60.0  # re-check at least this often, so a changed clock is noticed
RETRY_SECONDS = 30.0


def run_command(
    argv: Sequence[str],
    source: RefreshingSource,
    plan: Plan,
    profiles: Profiles,
    environ: Mapping[str, str],
    notify: Notify,
    static: bool = False,
) -> int:
    """Run `argv` to completion under the role and return its exit status."""
    child_env = base_environment(environ)
    session = source.current()
    if static:  # plain variables, as `aws-vault exec` does by default: no renewal, valid until they expire
        child_env.update(environment(session, plan))
        return _spawn(argv, child_env, notify)
    child_env.update(settings_environment(session, plan))
    with contextlib.ExitStack() as stack:
        if default_profile_shadows(profiles):
            directory = Path(stack.enter_context(private_tempdir()))
            child_env.update(unshadowed_files(environ, directory))
        server = stack.enter_context(CredentialServer(source))
        child_env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = server.url
        child_env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = server.token
        stack.enter_context(_renewing(source, notify))
        return _spawn(argv, child_env, notify)


@contextlib.contextmanager
def _renewing(source: RefreshingSource, notify: Notify) -> Iterator[None]:
    stop = threading.Event()

    def delay() -> float:
        return min(MAX_SLEEP, seconds_until_advisory(source.peek(), source.now()))

    def loop() -> None:
        wait = delay()
        while not stop.wait(wait):
            try:
                source.current()
            except ClientProblem as problem:
                notify(f"could not renew the credentials: {problem.message}")
            wait = delay() or RETRY_SECONDS  # still inside a window: the renewal failed; do not hammer STS

    thread = threading.Thread(target=loop, name="rolegate-renew", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _spawn(argv: Sequence[str], env: dict[str, str], notify: Notify) -> int:
    try:
        child = subprocess.Popen(list(argv), env=env)
    except FileNotFoundError:
        notify(f"command not found: {argv[0]}")
        return 127
    except PermissionError:
        notify(f"cannot run {argv[0]}: permission denied")
        return 126
    with _forwarding(child):
        status = child.wait()
    return 128 - status if status < 0 else status


@contextlib.contextmanager
def _forwarding(child: subprocess.Popen[bytes]) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():  # signal handlers live on the main thread
        yield
        return

    def forward(signum: int, _frame: FrameType | None) -> None:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
