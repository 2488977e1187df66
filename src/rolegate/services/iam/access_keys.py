"""IAM operations: access_keys (being written)."""
