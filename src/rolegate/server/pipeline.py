"""One path for every AWS request: body limit -> route -> SigV4 -> authenticate -> decode -> validate ->
service (authorize, act, audit) -> encode. Errors at any step become the protocol's AWS error body."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from rolegate.errors import AwsError, MissingAuthenticationToken, RequestEntityTooLarge
from rolegate.protocol import (
    Response,
    check_json_input,
    check_query_input,
    decode_form,
    error_class,
    json_error_response,
    json_response,
    model_error,
    parse_json_request,
    parse_query,
    query_error_response,
    query_operation,
    query_response,
    service_model,
)
from rolegate.server.routing import Route, route
from rolegate.services.context import Caller
from rolegate.services.dispatch import RequestFacts, Services
from rolegate.sigv4 import HttpRequestView, parse_credentials, verify


@dataclass(frozen=True, slots=True)
class RawRequest:
    method: str
    raw_path: str
    raw_query: str
    headers: list[tuple[str, str]]
    body: bytes
    client_ip: str
    secure: bool


class Pipeline:
    def __init__(self, services: Services, max_body_bytes: int) -> None:
        self.services = services
        self.max_body_bytes = max_body_bytes

    def handle(self, request: RawRequest) -> Response:
        request_id = self.services.ids.request_id()
        headers = {k.lower(): v for k, v in request.headers}
        current = Route("iam", "query")
        try:
            if len(request.body) > self.max_body_bytes:
                raise RequestEntityTooLarge(f"Request body must be no larger than {self.max_body_bytes} bytes")
            params = self._form(request, headers)
            current = route(headers, request.raw_query, params.get("Action") if params is not None else None)
            caller = self.authenticate(request, current.service)
            facts = RequestFacts(
                request_id,
                signing_region(headers.get("authorization", "")),
                request.client_ip,
                headers.get("user-agent", ""),
                request.secure,
            )
            if current.protocol == "json":
                return self._json(request, headers, current.service, caller, facts)
            return self._query(params or {}, current.service, caller, facts)
        except AwsError as error:
            return self._error(error, current, request_id)
        except Exception as error:  # the outermost net: no traceback ever reaches the client
            return self._error(error, current, request_id)

    def _form(self, request: RawRequest, headers: dict[str, str]) -> dict[str, str] | None:
        if "x-amz-target" in headers:
            return None
        if request.method == "POST":
            return decode_form(request.body, max_bytes=self.max_body_bytes)
        return decode_form(request.raw_query.encode("utf-8"), max_bytes=self.max_body_bytes)

    def authenticate(self, request: RawRequest, service: str) -> Caller:
        """The verified caller of a signed request (also used by the /_rolegate/ endpoints)."""
        view = HttpRequestView(
            request.method,
            request.raw_path,
            request.raw_query,
            request.headers,
            hashlib.sha256(request.body).hexdigest(),
        )
        claimed = parse_credentials(view)
        if claimed is None:
            raise MissingAuthenticationToken("Request is missing Authentication Token")
        caller, secret = self.services.authenticate(claimed.access_key_id, claimed.session_token)
        verify(
            view,
            lambda key: secret if key == claimed.access_key_id else None,
            self.services.clock,
            service=service,
            claimed=claimed,
        )
        return caller

    def _query(self, params: dict[str, str], service: str, caller: Caller, facts: RequestFacts) -> Response:
        operation = query_operation(service, params)
        arguments = parse_query(operation, params)
        check_query_input(operation, arguments)
        result = self.services.invoke(caller, service, operation.name, arguments, facts)
        return query_response(operation, result, facts.request_id)

    def _json(
        self, request: RawRequest, headers: dict[str, str], service: str, caller: Caller, facts: RequestFacts
    ) -> Response:
        operation, arguments = parse_json_request(
            service, headers.get("x-amz-target"), request.body, max_bytes=self.max_body_bytes
        )
        check_json_input(operation, arguments)
        result = self.services.invoke(caller, service, operation.name, arguments, facts)
        return json_response(operation, result, facts.request_id)

    @staticmethod
    def _error(error: BaseException, current: Route, request_id: str) -> Response:
        if current.protocol == "json":
            return json_error_response(_modeled(error, current.service), request_id)
        namespace = _namespace(current.service)
        return query_error_response(error, request_id, namespace)


def signing_region(authorization: str) -> str:
    """The region of a SigV4 Authorization header's credential scope (us-east-1 when there is none)."""
    parts = authorization.split("Credential=", 1)[-1].split("/")
    return parts[2] if len(parts) > 3 else "us-east-1"


def _modeled(error: BaseException, service: str) -> BaseException:
    """JSON services name AccessDenied after their model (Organizations: AccessDeniedException)."""
    if isinstance(error, AwsError) and error.code == "AccessDenied" and model_error(service, "AccessDeniedException"):
        return error_class(service, "AccessDeniedException")(error.message)
    return error


def _namespace(service: str) -> str | None:
    try:
        namespace: Any = service_model(service).metadata.get("xmlNamespace")
    except Exception:
        return None
    return namespace if isinstance(namespace, str) else None
