"""The credential endpoint an `--exec` child reads: the container credential provider protocol (ECS/EKS Pod
Identity) on 127.0.0.1, which every AWS SDK and the aws CLI support through AWS_CONTAINER_CREDENTIALS_FULL_URI
and AWS_CONTAINER_AUTHORIZATION_TOKEN. Each request gets the current session of a `RefreshingSource`, so a
long-running child keeps working across expiries.

Only a request carrying the random token (compared in constant time) gets credentials; nothing is logged.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rolegate.client.assume import RefreshingSource
from rolegate.client.errors import ClientProblem
from rolegate.client.model import iso8601

PATH = "/rolegate/credentials"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, source: RefreshingSource, token: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.source = source
        self.token = token


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "rolegate-assume"
    sys_version = ""

    def do_GET(self) -> None:
        if self.path != PATH:
            self._reply(404, {"code": "NotFound", "message": "no such path"})
            return
        given = self.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), self.server.token.encode()):
            self._reply(403, {"code": "AccessDenied", "message": "missing or wrong authorization token"})
            return
        try:
            session = self.server.source.current()
        except ClientProblem as problem:
            self._reply(500, {"code": "CredentialsUnavailable", "message": problem.message})
            return
        self._reply(
            200,
            {
                "AccessKeyId": session.access_key_id,
                "SecretAccessKey": session.secret_access_key,
                "Token": session.session_token,
                "Expiration": iso8601(session.expiration),
                "RoleArn": session.role_arn,
            },
        )

    def _reply(self, status: int, body: dict[str, str]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: request lines would interleave with the child's output."""


class CredentialServer:
    """A running endpoint; use as a context manager."""

    def __init__(self, source: RefreshingSource) -> None:
        self.token = secrets.token_urlsafe(32)
        self._httpd = _Server(source, self.token)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="rolegate-credentials", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}{PATH}"

    def __enter__(self) -> CredentialServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
