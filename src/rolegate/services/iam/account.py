"""IAM operations: account (being written)."""
