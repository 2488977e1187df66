"""IAM operations: simulate (being written)."""
