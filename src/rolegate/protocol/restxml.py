"""S3's rest-xml codec: the four calls the server glue makes, driven by botocore's S3 model.

    split_bucket_host(host, path, base_hosts) -> str
        Virtual-hosted style (`BUCKET.localhost:9000`, `BUCKET.s3.localhost`, anything ending in one of
        `base_hosts`) to the path-style path `/BUCKET/key...`; other hosts leave the path unchanged.

    parse_s3_request(method, path, raw_query, headers, body=None, *, max_xml_bytes=1 MiB,
                     max_text_bytes=1 MiB, supported=None) -> (OperationModel, params)
        `path` and `raw_query` as sent (percent-encoded; str, or bytes such as ASGI's raw_path),
        `headers` a mapping or (name, value) pairs, `body` a binary file object at offset 0 holding
        the decoded payload. The operation comes from the model's requestUri templates (see
        restxml_routes); params are keyed by input member names and typed (see restxml_request).
        Streaming payloads (`Body`) are the given file object, untouched. With `supported`, an operation
        outside it is NotImplemented (501). Raises only AwsError with S3's codes: MethodNotAllowed,
        InvalidURI, InvalidArgument, InvalidRequest, MalformedXML, MaxMessageLengthExceeded,
        MissingRequestBodyError, MissingContentLength, KeyTooLongError, MetadataTooLarge, BadDigest,
        InvalidDigest.

    s3_response(operation, result, *, request_id=None, method=None, host=None) -> (status, headers, body)
        `result` keyed by output member names; `body` is bytes, or the result's streaming `Body`
        (any iterable of bytes chunks) passed through for the server to stream (see restxml_response).

    s3_error_response(error, request_id, resource="", *, method="GET", host=None) -> (status, headers, body)
        Any exception as S3's `<Error>` document with `x-amz-request-id`/`x-amz-id-2`; the error's
        `extra` fields (Key, BucketName, ArgumentName, ...) become elements; HEAD and 304 get no body;
        non-AwsErrors are InternalError without their text (see restxml_errors).

`parse_copy_source(value) -> (bucket, key, version_id)` reads an `x-amz-copy-source` header, which
params carry as sent (URL-encoded), the form botocore's serializer and S3's documentation use.
"""

from __future__ import annotations

from rolegate.protocol.restxml_errors import S3_CONTENT_TYPE, as_s3_error, s3_error_response
from rolegate.protocol.restxml_request import Readable, parse_s3_request
from rolegate.protocol.restxml_response import S3Response, root_element, s3_response
from rolegate.protocol.restxml_uri import parse_copy_source, split_bucket_host

__all__ = [
    "S3_CONTENT_TYPE",
    "Readable",
    "S3Response",
    "as_s3_error",
    "parse_copy_source",
    "parse_s3_request",
    "root_element",
    "s3_error_response",
    "s3_response",
    "split_bucket_host",
]
