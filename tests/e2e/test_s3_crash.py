"""A server killed (SIGKILL) in the middle of an upload leaves no partial object behind: after a restart on
the same data directory the new key does not exist, and a key that was being overwritten still holds its old
bytes. The test has its own server, since it kills it."""

from __future__ import annotations

import http.client
import os
import signal
import time
from pathlib import Path
from urllib.parse import urlsplit

from awscli_support import client_error
from botocore.awsrequest import AWSRequest
from e2e_support import live_server
from s3_e2e_support import MiB, port_of, s3_client, signed_request

BUCKET = "crash-bucket"
DECLARED = 10 * MiB
SENT = 2 * MiB


def start_upload(port: int, request: AWSRequest) -> http.client.HTTPConnection:
    """Send the headers of a signed 10 MiB PUT and its first 2 MiB, then stop, leaving the request open."""
    url = urlsplit(request.url)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.putrequest("PUT", url.path, skip_host=True, skip_accept_encoding=True)
    connection.putheader("Host", url.netloc)
    for name, value in request.headers.items():
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(DECLARED))
    connection.endheaders()
    connection.send(request.body[:SENT])
    return connection


def test_a_crash_mid_upload_leaves_no_visible_partial_object(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    body = os.urandom(DECLARED)
    with live_server(data_dir) as server:
        s3 = s3_client(server)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="existing.bin", Body=b"old content")
        uploads = [
            start_upload(port_of(server), signed_request(server, "PUT", f"/{BUCKET}/{key}", body=body))
            for key in ("fresh.bin", "existing.bin")
        ]
        time.sleep(0.5)  # let the server take in what was sent
        # While the uploads are in flight nothing of them is visible.
        assert client_error(s3.head_object, Bucket=BUCKET, Key="fresh.bin")[2] == 404
        assert s3.get_object(Bucket=BUCKET, Key="existing.bin")["Body"].read() == b"old content"
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
        for connection in uploads:
            connection.close()

    with live_server(data_dir) as restarted:
        s3 = s3_client(restarted)
        assert client_error(s3.head_object, Bucket=BUCKET, Key="fresh.bin")[0::2] == ("404", 404)
        assert client_error(s3.get_object, Bucket=BUCKET, Key="fresh.bin")[0::2] == ("NoSuchKey", 404)
        existing = s3.get_object(Bucket=BUCKET, Key="existing.bin")
        assert (existing["ContentLength"], existing["Body"].read()) == (len(b"old content"), b"old content")
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["existing.bin"]
        # The server works normally after the crash: the same upload, sent whole, lands.
        s3.put_object(Bucket=BUCKET, Key="fresh.bin", Body=body)
        assert s3.head_object(Bucket=BUCKET, Key="fresh.bin")["ContentLength"] == DECLARED
