"""The `rolegate` command line."""
