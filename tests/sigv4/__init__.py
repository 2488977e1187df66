"""Tests for rolegate.sigv4 (a package so its module names cannot collide with other test folders)."""
