"""IAM operations: users (being written)."""
