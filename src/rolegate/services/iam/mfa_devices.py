"""IAM operations: mfa_devices (being written)."""
