"""Data files bundled with rolegate (AWS managed policies)."""
