"""IAM operations; importing this package registers them all."""

from rolegate.services.iam import roles

__all__ = ["roles"]
