"""SQL persistence (SQLAlchemy Core) for SQLite files and PostgreSQL."""
