"""The client's two failures, each one plain sentence: the user asked for something malformed (`UsageError`)
or AWS/rolegate refused or could not be reached (`AssumeError`, with an optional one-line hint and detail lines).

Messages carry ARNs, profile names and request ids, never a secret or a token.
"""

from __future__ import annotations


class ClientProblem(Exception):
    """Base of the client's failures; `str()` is the one-line message."""

    def __init__(self, message: str, hint: str | None = None, details: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details

    def lines(self) -> list[str]:
        """The message, then details, then the hint, as the CLI prints them."""
        out = [self.message, *(f"  {line}" for line in self.details)]
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return out


class UsageError(ClientProblem):
    """Malformed input: a bad option value, an unknown profile, a profile that cannot be assumed."""


class AssumeError(ClientProblem):
    """STS refused the request, or the source credentials or the endpoint could not be used."""
