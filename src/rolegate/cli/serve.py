"""`rolegate serve`: run the enforcing IAM + STS + Organizations endpoint on 127.0.0.1."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import uvicorn

from rolegate.server.app import Runtime, build_runtime, create_app
from rolegate.server.settings import DEFAULT_PORT, Settings
from rolegate.server.worker import SETTINGS_VARIABLE, worker_environment
from rolegate.services.s3 import collect_orphans

DEFAULT_DATA_DIR = ".rolegate"


def configure_serve(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help="state directory (default ./.rolegate)")
    parser.add_argument("--database-url", default="", help="SQLAlchemy URL instead of SQLite in the data dir")
    parser.add_argument("--demo", action="store_true", help="create the walkthroughs' ready world on first start")
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes sharing the database (default 1; SQLite or PostgreSQL)"
    )
    parser.set_defaults(handler=run_serve)


def _write_credentials_file(runtime: Runtime) -> Path:
    path = runtime.settings.data_dir / "root-credentials"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(
            "[rolegate-root]\n"
            f"aws_access_key_id = {runtime.root.access_key_id}\n"
            f"aws_secret_access_key = {runtime.root.secret_access_key}\n"
        )
    return path


def announce(runtime: Runtime) -> None:
    settings, root = runtime.settings, runtime.root
    endpoint = f"http://{settings.host}:{settings.port}"
    print(f"rolegate serving IAM, STS, Organizations and S3 on {endpoint}")
    print(f"management account: {root.account_id}")
    if root.created and root.secret_access_key:
        path = _write_credentials_file(runtime)
        print(f"root access key (shown once, also written to {path} with mode 0600):")
        print(f"  aws_access_key_id = {root.access_key_id}")
        print(f"  aws_secret_access_key = {root.secret_access_key}")
    sys.stdout.flush()


def clear_spool(spool: Path) -> None:
    """Before any server process starts: nothing in the spool belongs to a live request."""
    if spool.is_dir():
        for leftover in spool.iterdir():
            if leftover.is_file():
                leftover.unlink(missing_ok=True)


def run_serve(args: argparse.Namespace) -> int:
    if args.workers < 1:
        print("rolegate serve: --workers must be at least 1", file=sys.stderr)
        return 2
    settings = Settings.from_env(
        Path(args.data_dir), host=args.host, port=args.port, database_url=args.database_url, workers=args.workers
    )
    runtime = build_runtime(settings)
    collect_orphans(runtime.services.store, runtime.services.blobs)  # object files a crash left unreferenced
    clear_spool(settings.data_dir / "spool")  # request bodies a crash left half-received
    if args.demo:
        from rolegate.demo.world import build_demo_world, print_demo  # noqa: PLC0415 - only the demo needs it

        print_demo(runtime, build_demo_world(runtime))
    announce(runtime)
    if settings.workers > 1:
        runtime.services.audit.flush()
        runtime.services.store.close()
        os.environ[SETTINGS_VARIABLE] = worker_environment(settings)
        application: object = "rolegate.server.worker:create_worker_app"
    else:
        application = create_app(runtime)
    uvicorn.run(
        application,  # type: ignore[arg-type]
        factory=settings.workers > 1,
        workers=settings.workers if settings.workers > 1 else None,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        server_header=False,  # S3 answers name themselves AmazonS3 (protocol/restxml_errors.py); no "uvicorn"
        # aws:SourceIp is the connection's address, as in AWS: no X-Forwarded-For rewriting (which would
        # also let any local client choose its own source IP).
        proxy_headers=False,
        http="httptools",  # the C HTTP parser: several times cheaper per request than h11
        loop="uvloop",
    )
    return 0
