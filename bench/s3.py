"""S3 benchmark: 1 KiB GetObject and PutObject with SigV4 and enforcement on, rolegate against moto in the same
run, and the server's peak memory while a 1 GiB object is uploaded in one PutObject.

Requests are signed once with botocore and the same bytes are replayed over keep-alive connections from
several threads (see bench/server.py), so the client costs little. The caller is an IAM user in the
management account whose identity policy allows s3:GetObject/PutObject on the bucket, so every request is
evaluated by the engine (moto checks nothing). The 1 GiB upload streams a generated body with
UNSIGNED-PAYLOAD; the server's resident memory is sampled every 20 ms during the upload.
Both servers get the same warm-up under the same load before each measured run (--warmup-seconds, default
5): a server's first seconds cost more (its caches fill, its heap grows) and the figures are steady state.
Usage: python bench/s3.py [--seconds-per-run N] [--clients N] [--moto PATH] [--upload-mib N] [--workers N]
       [--warmup-seconds N]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from server import ROOT, Figures, free_port, measure, process_tree, report, rss_mib, wait_ready

BUCKET = "bench-bucket"
KEY = "bench/object-1k"
PAYLOAD = os.urandom(1024)


def signed(port: int, method: str, key: str, body: bytes, credentials: tuple[str, str]) -> bytes:
    url = f"http://127.0.0.1:{port}/{BUCKET}/{key}"
    request = AWSRequest(method=method, url=url, data=body)
    if method == "PUT":
        request.headers["Content-Type"] = "application/octet-stream"
    S3SigV4Auth(Credentials(*credentials), "s3", "us-east-1").add_auth(request)
    lines = [f"{method} /{BUCKET}/{key} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in request.headers.items()]
    lines += [f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(lines).encode() + body


def s3_client(port: int, credentials: tuple[str, str]) -> object:
    return boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id=credentials[0],
        aws_secret_access_key=credentials[1],
        config=Config(s3={"addressing_style": "path"}),
    )


def bench_user(port: int) -> tuple[str, str]:
    """An IAM user allowed Get/PutObject on the bucket: requests pay for a real policy evaluation."""
    iam = boto3.client(
        "iam",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id=ROOT[0],
        aws_secret_access_key=ROOT[1],
    )
    iam.create_user(UserName="s3-bench")
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"arn:aws:s3:::{BUCKET}/*"}
        ],
    }
    iam.put_user_policy(UserName="s3-bench", PolicyName="objects", PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName="s3-bench")["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def object_figures(
    port: int, pid: int, clients: int, seconds: float, user: tuple[str, str], warmup: float
) -> dict[str, Figures]:
    s3_client(port, ROOT).create_bucket(Bucket=BUCKET)  # type: ignore[attr-defined]
    put = signed(port, "PUT", KEY, PAYLOAD, user)
    results = {"PutObject 1 KiB": measure(port, put, clients, seconds, pid, warmup)}
    get = signed(port, "GET", KEY, b"", user)
    results["GetObject 1 KiB"] = measure(port, get, clients, seconds, pid, warmup)
    return results


def generated(total: int, block: int = 1024 * 1024) -> Iterator[bytes]:
    chunk = os.urandom(block)
    sent = 0
    while sent < total:
        piece = chunk[: min(block, total - sent)]
        sent += len(piece)
        yield piece


class UnsignedPayloadAuth(S3SigV4Auth):  # type: ignore[misc]
    """SigV4 with `UNSIGNED-PAYLOAD`, as SDKs send large bodies over TLS: the client need not hash 1 GiB."""

    def _should_sha256_sign_payload(self, _request: AWSRequest) -> bool:
        return False


def upload_peak(port: int, pid: int, mib: int) -> tuple[float, float, float, int]:
    """(idle RSS, peak RSS during the upload, seconds, status) for one PutObject of `mib` MiB."""
    size = mib * 1024 * 1024
    request = AWSRequest(method="PUT", url=f"http://127.0.0.1:{port}/{BUCKET}/big-object")
    request.headers["Content-Length"] = str(size)
    UnsignedPayloadAuth(Credentials(*ROOT), "s3", "us-east-1").add_auth(request)
    idle = sum(rss_mib(p) for p in process_tree(pid))
    peak = [idle]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], sum(rss_mib(p) for p in process_tree(pid)))

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        connection.putrequest("PUT", f"/{BUCKET}/big-object", skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", f"127.0.0.1:{port}")
        for name, value in request.headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        for piece in generated(size):
            connection.send(piece)
        response = connection.getresponse()
        response.read()
        status = response.status
    finally:
        connection.close()
        done.set()
        sampler.join()
    return idle, peak[0], time.perf_counter() - started, status


def run_rolegate(clients: int, seconds: float, upload_mib: int, workers: int, warmup: float) -> dict[str, Figures]:
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="rolegate-s3-bench-"))
    env = {**os.environ, "ROLEGATE_ROOT_ACCESS_KEY_ID": ROOT[0], "ROLEGATE_ROOT_SECRET_ACCESS_KEY": ROOT[1]}
    command = [sys.executable, "-m", "rolegate", "serve", "--port", str(port), "--data-dir", str(data)]
    command += ["--workers", str(workers)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=env)
    try:
        wait_ready(f"http://127.0.0.1:{port}/_rolegate/health", process)
        results = object_figures(port, process.pid, clients, seconds, bench_user(port), warmup)
        if upload_mib:
            idle, peak, elapsed, status = upload_peak(port, process.pid, upload_mib)
            print(
                f"rolegate PutObject {upload_mib} MiB in one request: status {status}, {elapsed:.1f} s "
                f"({upload_mib / elapsed:.0f} MiB/s); RSS idle {idle:.1f} MiB, peak {peak:.1f} MiB "
                f"(+{peak - idle:.1f} MiB)"
            )
        return results
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


def run_moto(path: str, clients: int, seconds: float, warmup: float) -> dict[str, Figures]:
    port = free_port()
    process = subprocess.Popen([path, "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(f"http://127.0.0.1:{port}/moto-api/", process)
        return object_figures(port, process.pid, clients, seconds, ROOT, warmup)
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds-per-run", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--moto", default=shutil.which("moto_server") or "")
    parser.add_argument("--upload-mib", type=int, default=1024, help="size of the single-PUT upload (0 skips it)")
    parser.add_argument("--workers", type=int, default=2, help="rolegate server processes (default 2)")
    parser.add_argument("--warmup-seconds", type=float, default=5.0, help="load before each measured run, both servers")
    args = parser.parse_args()
    ours = run_rolegate(args.clients, args.seconds_per_run, args.upload_mib, args.workers, args.warmup_seconds)
    for name, figures in ours.items():
        report(f"rolegate --workers {args.workers} {name}", figures)
    if not args.moto:
        print("moto_server not found: pip install 'moto[server]' (in another venv) and pass --moto PATH")
        return 0
    theirs = run_moto(args.moto, args.clients, args.seconds_per_run, args.warmup_seconds)
    for name, figures in theirs.items():
        report(f"moto {name}", figures)
    for name in ours:
        print(f"ratio rolegate/moto ({name}): {ours[name][0] / theirs[name][0]:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
