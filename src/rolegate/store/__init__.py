"""Persistence boundary: records, the Store interface, and its SQL (SQLite/PostgreSQL) and memory implementations."""
