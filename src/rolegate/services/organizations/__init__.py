"""AWS Organizations operations; importing this package registers them all."""

from rolegate.services.organizations import accounts, attachments, organization_ops, policies, tags, units

__all__ = ["accounts", "attachments", "organization_ops", "policies", "tags", "units"]
