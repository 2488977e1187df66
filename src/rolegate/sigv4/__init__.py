"""SigV4 verification: who signed a request, recomputed from the spec's canonical form and compared in constant time.

The signing steps live in `rolegate.sigv4.canonical`; callers need only what is exported here. For S3:
`verify_s3` authenticates (SigV4 header or query, SigV2 header or query; None for an anonymous request) and
`s3_payload_reader` turns the spooled body into the decoded, verified payload (aws-chunked chunk signatures,
trailing checksums, x-amz-content-sha256, Content-MD5, x-amz-checksum-*), read a block at a time.
"""

from rolegate.sigv4.checksums import sha256_file
from rolegate.sigv4.sigv2 import verify_s3, verify_sigv2
from rolegate.sigv4.streaming import PayloadReader, chunked_reader, s3_payload_reader, strip_aws_chunked
from rolegate.sigv4.verify import (
    ChunkSigner,
    CredentialScope,
    HttpRequestView,
    SignedCredentials,
    VerifiedRequest,
    parse_credentials,
    verify,
)

__all__ = [
    "ChunkSigner",
    "CredentialScope",
    "HttpRequestView",
    "PayloadReader",
    "SignedCredentials",
    "VerifiedRequest",
    "chunked_reader",
    "parse_credentials",
    "s3_payload_reader",
    "sha256_file",
    "strip_aws_chunked",
    "verify",
    "verify_s3",
    "verify_sigv2",
]
