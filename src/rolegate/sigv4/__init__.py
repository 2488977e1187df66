"""SigV4 verification: who signed a request, recomputed from the spec's canonical form and compared in constant time.

The signing steps live in `rolegate.sigv4.canonical`; callers need only what is exported here.
"""

from rolegate.sigv4.verify import (
    CredentialScope,
    HttpRequestView,
    SignedCredentials,
    VerifiedRequest,
    parse_credentials,
    verify,
)

__all__ = [
    "CredentialScope",
    "HttpRequestView",
    "SignedCredentials",
    "VerifiedRequest",
    "parse_credentials",
    "verify",
]
