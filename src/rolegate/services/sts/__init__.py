"""STS operations; importing this package registers them all."""

from rolegate.services.sts import assume_role, caller, decode

__all__ = ["assume_role", "caller", "decode"]
