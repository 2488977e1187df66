"""Database URL -> SQLAlchemy engine: SQLite in WAL mode with foreign keys and a busy timeout, or PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event


def make_engine(url: str, background_checkpoints: bool = False) -> Engine:
    """`background_checkpoints`: request connections never checkpoint the WAL (checkpoints.py does)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Transactions are begun explicitly (store.py, and the begin hook below for SQLAlchemy's own),
            # never implicitly by the sqlite3 module, so SAVEPOINTs and rollbacks are real.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            if ":memory:" not in url:
                cursor.execute("PRAGMA journal_mode=WAL")
                if background_checkpoints:
                    cursor.execute("PRAGMA wal_autocheckpoint=0")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            # IMMEDIATE takes the write lock up front: no lock-upgrade deadlocks between concurrent writers.
            connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.info.get("rolegate_write", True) else "BEGIN")

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
