"""IAM operations: attachments (being written)."""
