"""Server benchmark: GetCallerIdentity and AssumeRole throughput with SigV4 and enforcement on.

Starts `rolegate serve` (and, when `moto_server` is on PATH or given with --moto, moto's server) on
127.0.0.1, signs one request per operation with botocore and replays the same bytes over keep-alive
connections from several threads, so the client is not the bottleneck. Prints req/s, p50 and p99, the ratio
to moto, and the server's resident memory after start-up with the demo world.
Also prints the servers' CPU time per request, a figure that does not depend on the client's share of the cores.
Usage: python bench/server.py [--seconds-per-run N] [--clients N] [--moto PATH_TO_moto_server] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ROOT = ("AKIAROLEGATEBENCHKEY", "rolegate/bench/root/secret/0123456789abc")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"server exited early ({url})")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError as error:
            if getattr(error, "code", None):  # an HTTP error status means the server answers
                return
            time.sleep(0.1)
    raise SystemExit(f"server did not start ({url})")


def signed_bytes(port: int, body: str, key: tuple[str, str], token: str | None = None) -> bytes:
    request = AWSRequest(
        method="POST",
        url=f"http://127.0.0.1:{port}/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials(key[0], key[1], token), "sts", "us-east-1").add_auth(request)
    lines = [
        "POST / HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        *(f"{k}: {v}" for k, v in request.headers.items()),
        f"Content-Length: {len(body)}",
        "",
        body,
    ]
    return "\r\n".join(lines).encode()


class Connection:
    """A keep-alive client connection that reads each response with few recv calls and one header scan, so
    the client spends little of the shared CPU (its cost per request is printed with the figures)."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port))
        self.pending = b""

    def exchange(self, payload: bytes) -> tuple[bytes, bool]:
        """One request/response; (status code, whether the server keeps the connection open)."""
        self.socket.sendall(payload)
        data = self.pending
        while (end := data.find(b"\r\n\r\n")) < 0:
            if not (chunk := self.socket.recv(65536)):
                return b"closed", False
            data += chunk
        head = data[:end].lower()
        rest = data[end + 4 :]
        marker = head.find(b"\r\ncontent-length:")
        if marker < 0:
            return head[9:12], False  # no length: the body runs to the end, so do not reuse the connection
        line_end = head.find(b"\r\n", marker + 2)
        length = int(head[marker + 17 : line_end if line_end >= 0 else len(head)])
        while len(rest) < length:
            if not (chunk := self.socket.recv(65536)):
                return b"closed", False
            rest += chunk
        self.pending = rest[length:]
        keep = not head.startswith(b"http/1.0") and b"\r\nconnection: close" not in head
        return head[9:12], keep

    def close(self) -> None:
        self.socket.close()


def replay(port: int, payload: bytes, until: float, latencies: list[float], statuses: list[bytes]) -> None:
    """Keep-alive replay; servers that close after each response (moto's) get a fresh connection."""
    while time.perf_counter() < until:
        connection = Connection(port)
        try:
            keep = True
            while keep and time.perf_counter() < until:
                start = time.perf_counter()
                status, keep = connection.exchange(payload)
                latencies.append(time.perf_counter() - start)
                statuses.append(status)
        finally:
            connection.close()


def process_tree(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid, *(p for child in children for p in process_tree(int(child)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a server and its worker processes."""
    total = 0
    for each in process_tree(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


Figures = tuple[float, float, float, set[bytes], float, float]


def measure(port: int, payload: bytes, clients: int, seconds: float, pid: int = 0, warmup: float = 1.0) -> Figures:
    """req/s, p50, p99, statuses, the server's CPU microseconds per request (0 when pid is unknown), and the
    client's (this process: the replaying threads share the machine's cores with the server). The warm-up
    runs on as many connections as the measurement, so every worker process is warm."""
    warm_until = time.perf_counter() + warmup
    warming = [threading.Thread(target=replay, args=(port, payload, warm_until, [], [])) for _ in range(clients)]
    for thread in warming:
        thread.start()
    for thread in warming:
        thread.join()
    latencies: list[float] = []
    statuses: list[bytes] = []
    until = time.perf_counter() + seconds
    threads = [
        threading.Thread(target=replay, args=(port, payload, until, latencies, statuses)) for _ in range(clients)
    ]
    cpu_before = cpu_seconds(pid) if pid else 0.0
    client_before = time.process_time()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cpu = (cpu_seconds(pid) - cpu_before) if pid else 0.0
    client = time.process_time() - client_before
    latencies.sort()
    return (
        len(latencies) / elapsed,
        latencies[len(latencies) // 2],
        latencies[int(len(latencies) * 0.99)],
        set(statuses),
        cpu / len(latencies) * 1e6 if latencies else 0.0,
        client / len(latencies) * 1e6 if latencies else 0.0,
    )


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")


def assume_role_payload(port: int) -> bytes:
    """A user allowed to assume a role that trusts the account, created through the API as root."""
    import boto3  # noqa: PLC0415 - only this setup step needs the full client

    session = boto3.Session(aws_access_key_id=ROOT[0], aws_secret_access_key=ROOT[1], region_name="us-east-1")
    iam = session.client("iam", endpoint_url=f"http://127.0.0.1:{port}")
    account = session.client("sts", endpoint_url=f"http://127.0.0.1:{port}").get_caller_identity()["Account"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName="bench-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.create_user(UserName="bench-user")
    iam.put_user_policy(
        UserName="bench-user",
        PolicyName="assume",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role}]}
        ),
    )
    key = iam.create_access_key(UserName="bench-user")["AccessKey"]
    body = f"Action=AssumeRole&Version=2011-06-15&RoleArn={role}&RoleSessionName=bench"
    return signed_bytes(port, body, (key["AccessKeyId"], key["SecretAccessKey"]))


def start_rolegate(data: Path, workers: int, *flags: str) -> tuple[subprocess.Popen[bytes], int]:
    """`rolegate serve` with the bench's root key on a free port, once it answers (stopped if it does not)."""
    port = free_port()
    env = {**os.environ, "ROLEGATE_ROOT_ACCESS_KEY_ID": ROOT[0], "ROLEGATE_ROOT_SECRET_ACCESS_KEY": ROOT[1]}
    command = [sys.executable, "-m", "rolegate", "serve", *flags, "--port", str(port), "--data-dir", str(data)]
    process = subprocess.Popen([*command, "--workers", str(workers)], stdout=subprocess.DEVNULL, env=env)
    _ready(process, f"http://127.0.0.1:{port}/_rolegate/health")
    return process, port


def start_moto(path: str) -> tuple[subprocess.Popen[bytes], int]:
    """moto's server on a free port, once it answers (stopped if it does not)."""
    port = free_port()
    process = subprocess.Popen([path, "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _ready(process, f"http://127.0.0.1:{port}/moto-api/")
    return process, port


def _ready(process: subprocess.Popen[bytes], url: str) -> None:
    try:
        wait_ready(url, process)
    except BaseException:
        stop(process)
        raise


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


def run_rolegate(clients: int, seconds: float, workers: int) -> dict[str, Figures]:
    data = Path(tempfile.mkdtemp(prefix="rolegate-bench-"))
    try:
        process, port = start_rolegate(data, workers, "--demo")
    except BaseException:
        shutil.rmtree(data, ignore_errors=True)
        raise
    try:
        time.sleep(1)
        rss = sum(rss_mib(p) for p in process_tree(process.pid) if p != process.pid or workers == 1)
        print(f"rolegate ({workers} worker{'s' if workers > 1 else ''}) idle RSS with the demo world: {rss:.1f} MiB")
        identity = signed_bytes(port, "Action=GetCallerIdentity&Version=2011-06-15", ROOT)
        results = {"GetCallerIdentity": measure(port, identity, clients, seconds, process.pid)}
        results["AssumeRole"] = measure(port, assume_role_payload(port), clients, seconds, process.pid)
        return results
    finally:
        stop(process)
        shutil.rmtree(data, ignore_errors=True)


def run_moto(path: str, clients: int, seconds: float) -> Figures:
    process, port = start_moto(path)
    try:
        payload = signed_bytes(port, "Action=GetCallerIdentity&Version=2011-06-15", ROOT)
        return measure(port, payload, clients, seconds, process.pid)
    finally:
        stop(process)


def report(name: str, figures: Figures) -> None:
    rate, p50, p99, statuses, cpu, client = figures
    print(
        f"{name:>40}: {rate:8.0f} req/s  p50 {p50 * 1000:6.2f} ms  p99 {p99 * 1000:6.2f} ms  "
        f"server CPU {cpu:6.0f} us/req  client CPU {client:4.0f} us/req  statuses {sorted(statuses)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds-per-run", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--moto", default=shutil.which("moto_server") or "")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="rolegate process counts to run")
    args = parser.parse_args()
    runs = {workers: run_rolegate(args.clients, args.seconds_per_run, workers) for workers in args.workers}
    for workers, results in runs.items():
        for name, figures in results.items():
            report(f"rolegate --workers {workers} {name}", figures)
    if not args.moto:
        print("moto_server not found: pip install 'moto[server]' (in another venv) and pass --moto PATH")
        return 0
    moto = run_moto(args.moto, args.clients, args.seconds_per_run)
    report("moto GetCallerIdentity", moto)
    for workers, results in runs.items():
        ratio = results["GetCallerIdentity"][0] / moto[0]
        print(f"ratio rolegate --workers {workers} / moto (GetCallerIdentity): {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
