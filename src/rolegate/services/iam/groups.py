"""IAM operations: groups (being written)."""
