"""Engine-level policy errors: a JSON path and an AWS-worded message, never an AWS wire error."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PolicyError:
    """One problem in a policy document, located by its JSON path (empty path = the whole document)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class MalformedPolicy(ValueError):
    """Raised only by helpers that promise a valid document; carries every collected error."""

    def __init__(self, errors: tuple[PolicyError, ...]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors) or "malformed policy")
