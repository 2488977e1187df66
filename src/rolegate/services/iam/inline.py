"""IAM operations: inline (being written)."""
