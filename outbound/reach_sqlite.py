"""The embedded default's reach counter: reach's check-and-add on a SQLite file every worker shares.

The demo runs several processes and no Redis, as for the rate limiter (ratelimit_sqlite,
whose reasons hold here): a small database of its own, one `BEGIN IMMEDIATE` transaction
per step, so two processes racing for the last place take turns and only one gets it.
Counting a set's rows is linear here, which is fine at the demo's few users; Redis is
what production counts with.
"""

from __future__ import annotations

from pathlib import Path

from outbound.sqlite_store import SqliteFile

BUSY_TIMEOUT_MS = 2000  # waiting longer for the write lock: the store cannot answer

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS reach (key TEXT NOT NULL, member TEXT NOT NULL, at_us INTEGER NOT NULL,"
    " PRIMARY KEY (key, member)) WITHOUT ROWID"
)
INDEX = "CREATE INDEX IF NOT EXISTS reach_by_time ON reach (key, at_us)"


class SqliteReachCounter:
    def __init__(self, *, path: Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS):
        self.file = SqliteFile(path, busy_timeout_ms=busy_timeout_ms, schema=(SCHEMA, INDEX))

    def add(self, key: str, member: str, *, now_us: int, window_us: int, allowed: int) -> bool:
        """reach.REACH_LUA, statement for statement. sqlite3.Error: locked too long, disk full."""
        with self.file.immediate() as connection:
            return self._step(connection, key, member, now_us=now_us, window_us=window_us, allowed=allowed)

    @staticmethod
    def _step(connection, key: str, member: str, *, now_us: int, window_us: int, allowed: int) -> bool:
        connection.execute("DELETE FROM reach WHERE key = ? AND at_us < ?", (key, now_us - window_us))
        if allowed >= 0:
            known = connection.execute("SELECT 1 FROM reach WHERE key = ? AND member = ?", (key, member)).fetchone()
            (members,) = connection.execute("SELECT count(*) FROM reach WHERE key = ?", (key,)).fetchone()
            if not known and members >= allowed:
                return False
        connection.execute(
            "INSERT INTO reach (key, member, at_us) VALUES (?, ?, ?)"
            " ON CONFLICT (key, member) DO UPDATE SET at_us = max(at_us, excluded.at_us)",
            (key, member, now_us),
        )
        return True
