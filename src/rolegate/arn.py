"""ARN value type: parse and format `arn:partition:service:region:account:resource`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    @classmethod
    def parse(cls, text: str) -> Arn | None:
        parts = text.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or not parts[1] or not parts[2]:
            return None
        return cls(parts[1], parts[2], parts[3], parts[4], parts[5])

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"

    @property
    def resource_type(self) -> str:
        return self.resource.split("/", 1)[0] if "/" in self.resource else ""

    @property
    def name(self) -> str:
        """Last path element of the resource part (role, user, policy name)."""
        return self.resource.rsplit("/", 1)[-1]


def iam_arn(account: str, kind: str, path: str, name: str) -> str:
    """`arn:aws:iam::A:role/path/name` from an IAM Path (`/` or `/a/b/`)."""
    path = path if path.startswith("/") else "/"
    return f"arn:aws:iam::{account}:{kind}{path}{name}"
