"""S3 benchmark: 1 KiB GetObject and PutObject with SigV4 and enforcement on, rolegate against moto in the same
run, and the server's peak memory while a 1 GiB object is uploaded in one PutObject.

Requests are signed once with botocore and the same bytes are replayed over keep-alive connections from
several threads (see bench/server.py), so the client costs little. The caller is an IAM user in the
management account whose identity policy allows s3:GetObject/PutObject on the bucket, so every request is
evaluated by the engine (moto checks nothing). The 1 GiB upload streams a generated body with
UNSIGNED-PAYLOAD; the server's resident memory is sampled every 20 ms during the upload.
Both servers run at once and are measured in alternating runs (--rounds per operation, default 3), each
server's first run after --warmup-seconds (default 5) of the same load: a server's first seconds cost more
(its caches fill, its heap grows), and this machine's speed drifts from minute to minute, so a server
measured only in one stretch of time can look several tens of percent better or worse than the other.
The figures printed are each server's median run; the ratio is that of the medians, followed by the ratio
of each pair of runs.
Usage: python bench/s3.py [--seconds-per-run N] [--clients N] [--moto PATH] [--upload-mib N] [--workers N]
       [--warmup-seconds N] [--rounds N]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from server import ROOT, Connection, Figures, measure, process_tree, report, rss_mib, start_moto, start_rolegate, stop

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


class Target:
    """A running server with the bucket, and the two signed 1 KiB requests replayed against it.

    `resets`: the server's state is cleared before each measured run (moto: it keeps every overwritten
    object in memory and slows down as they pile up, which would flatter the ratio)."""

    def __init__(self, name: str, port: int, pid: int, user: tuple[str, str], *, resets: bool = False) -> None:
        self.name, self.port, self.pid, self.resets = name, port, pid, resets
        self.requests = {"PutObject 1 KiB": signed(port, "PUT", KEY, PAYLOAD, user)}
        self.requests["GetObject 1 KiB"] = signed(port, "GET", KEY, b"", user)
        self.runs: dict[str, list[Figures]] = {name: [] for name in self.requests}
        self.populate()

    def populate(self) -> None:
        """The bucket and the object the GetObject runs read."""
        s3_client(self.port, ROOT).create_bucket(Bucket=BUCKET)  # type: ignore[attr-defined]
        connection = Connection(self.port)
        try:
            status, _ = connection.exchange(self.requests["PutObject 1 KiB"])
        finally:
            connection.close()
        if status != b"200":
            raise RuntimeError(f"{self.name}: PutObject answered {status!r}")

    def reset(self) -> None:
        if self.resets:
            request = urllib.request.Request(f"http://127.0.0.1:{self.port}/moto-api/reset", method="POST")
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
            self.populate()


def interleaved(targets: list[Target], clients: int, seconds: float, warmup: float, rounds: int) -> None:
    """Each operation: `rounds` runs per server, alternating between the servers, so a machine that speeds
    up or slows down meanwhile (other tenants, frequency) weighs on both alike. The first run of each
    server gets the full warm-up, later ones a short one (the server is warm by then)."""
    for operation in targets[0].requests:
        for round_number in range(rounds):
            for target in targets:
                target.reset()
                figures = measure(
                    target.port,
                    target.requests[operation],
                    clients,
                    seconds,
                    target.pid,
                    warmup if round_number == 0 else min(warmup, 1.0),
                )
                target.runs[operation].append(figures)
                print(
                    f"  run {round_number + 1}: {target.name} {operation}: "
                    f"{figures[0]:.0f} req/s, {figures[4]:.0f} us/req"
                )


def median_run(runs: list[Figures]) -> Figures:
    """The run with the median throughput (its latencies and CPU figures come with it)."""
    return sorted(runs, key=lambda figures: figures[0])[len(runs) // 2]


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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds-per-run", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--moto", default=shutil.which("moto_server") or "")
    parser.add_argument("--upload-mib", type=int, default=1024, help="size of the single-PUT upload (0 skips it)")
    parser.add_argument("--workers", type=int, default=2, help="rolegate server processes (default 2)")
    parser.add_argument("--warmup-seconds", type=float, default=5.0, help="load before each measured run, both servers")
    parser.add_argument("--rounds", type=int, default=3, help="runs per server and operation, alternating")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="rolegate-s3-bench-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        process, port = start_rolegate(data, args.workers)
        processes.append(process)
        ours = Target(f"rolegate --workers {args.workers}", port, process.pid, bench_user(port))
        targets = [ours]
        if args.moto:
            process, port = start_moto(args.moto)
            processes.append(process)
            targets.append(Target("moto", port, process.pid, ROOT, resets=True))
        else:
            print("moto_server not found: pip install 'moto[server]' (in another venv) and pass --moto PATH")
        interleaved(targets, args.clients, args.seconds_per_run, args.warmup_seconds, args.rounds)
        for target in targets:
            for name, runs in target.runs.items():
                report(f"{target.name} {name}", median_run(runs))
        if len(targets) == 2:
            theirs = targets[1]
            for name, runs in ours.runs.items():
                ratio = median_run(runs)[0] / median_run(theirs.runs[name])[0]
                each = [mine[0] / other[0] for mine, other in zip(runs, theirs.runs[name], strict=True)]
                print(
                    f"ratio rolegate/moto ({name}): {ratio:.1f}x (medians of {args.rounds} alternating runs; "
                    f"run by run {', '.join(f'{r:.1f}x' for r in each)})"
                )
            stop(processes.pop())  # moto: not running during the upload
        if args.upload_mib:
            idle, peak, elapsed, status = upload_peak(ours.port, ours.pid, args.upload_mib)
            print(
                f"rolegate PutObject {args.upload_mib} MiB in one request: status {status}, {elapsed:.1f} s "
                f"({args.upload_mib / elapsed:.0f} MiB/s); RSS idle {idle:.1f} MiB, peak {peak:.1f} MiB "
                f"(+{peak - idle:.1f} MiB)"
            )
    finally:
        for process in processes:
            stop(process)
        shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
