"""A small SQLite file every process of the demo shares: the embedded default's stand-in for Redis.

The demo runs web, worker and beat as separate processes and no Redis, so counters that must
be shared (the rate limiter's, the reach counter's) live in a database of their own, not Waco's:
its write lock is held for microseconds per step and never queues behind the app's transactions.
Each step is one `BEGIN IMMEDIATE` transaction, so two processes racing take turns.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class SqliteFile:
    def __init__(self, path: Path, *, busy_timeout_ms: int, schema: tuple[str, ...]):
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self.schema = schema
        # A connection belongs to one thread and must not cross a fork.
        self._local = threading.local()
        # Connections a fork inherited: kept, unused and never closed, because
        # closing one in the child can disturb the parent's locks and WAL.
        self._inherited: list[sqlite3.Connection] = []

    @contextmanager
    def immediate(self) -> Iterator[sqlite3.Connection]:
        """One BEGIN IMMEDIATE transaction: the write lock first, then the clock and the rows."""
        connection = self.connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:  # SQLite may have rolled back already (disk full, I/O)
                connection.execute("ROLLBACK")
            raise

    def connection(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            if getattr(local, "connection", None) is not None:
                self._inherited.append(local.connection)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN IMMEDIATE ourselves. timeout is the busy timeout.
            connection = sqlite3.connect(self.path, timeout=self.busy_timeout_ms / 1000, isolation_level=None)
            connection.execute("PRAGMA journal_mode = WAL")
            # A crash may lose the last few steps: a counter forgets a few grants or counts,
            # which is harmless, and commits need no fsync.
            connection.execute("PRAGMA synchronous = NORMAL")
            for statement in self.schema:
                connection.execute(statement)
            local.connection, local.pid = connection, os.getpid()
        return local.connection
