"""The embedded default's rate limiter: the same GCRA on a SQLite file every worker shares.

The demo runs web, worker and beat as separate processes and no Redis, so the
limit cannot live in process memory (each process would grant the full rate)
nor in Django's file cache (no atomic read-modify-write): it lives in a file
of its own (outbound.sqlite_store).

One decision is one `BEGIN IMMEDIATE` transaction: the write lock is taken
first, then the clock is read, then TAT is read and written. Reading the clock
inside the lock is what Redis's TIME-in-the-script gives us: a process that
waited for the lock decides with the time it got it, never an older one.
All processes of the demo run on one machine, so they share its clock.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from outbound.cooldown import OPERATIONS, CooldownState, cooldown_gate
from outbound.gcra import (
    FAIL_CLOSED_RETRY_SECONDS,
    MICROSECONDS,
    GcraLimiter,
    GcraStep,
    check_burst,
    gcra_charge,
    gcra_step,
    interval_us,
    log_outage,
)
from outbound.sqlite_store import SqliteFile

# Waiting longer than this for the write lock means something is wrong: deny and come back.
BUSY_TIMEOUT_MS = 2000
# Rows whose TAT has passed mean the same as no row; sweep them this often per process.
PRUNE_EVERY_SECONDS = 60.0

SCHEMA = "CREATE TABLE IF NOT EXISTS gcra (key TEXT PRIMARY KEY, tat_us INTEGER NOT NULL) WITHOUT ROWID"
COOLDOWN_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS cooldown (key TEXT PRIMARY KEY, until_us INTEGER NOT NULL,"
    " level INTEGER NOT NULL, probe_us INTEGER NOT NULL, expires_us INTEGER NOT NULL) WITHOUT ROWID"
)


def wall_clock_us() -> int:
    # Wall time, shared by every process of the machine. If it steps back, TATs
    # look further away for a while: we send slower, never faster.
    return time.time_ns() // 1000


class SqliteRateLimiter(GcraLimiter):
    """GCRA on a SQLite file (WAL), one short immediate transaction per decision."""

    def __init__(
        self,
        *,
        path: Path,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        clock_us: Callable[[], int] = wall_clock_us,
    ):
        self.file = SqliteFile(path, busy_timeout_ms=busy_timeout_ms, schema=(SCHEMA, COOLDOWN_SCHEMA))
        self.clock_us = clock_us
        self._last_prune = float("-inf")

    def prune(self) -> int:
        """Delete the rows that have expired (TAT in the past); returns how many."""
        # Autocommit: the DELETE is its own transaction.
        return self.file.connection().execute("DELETE FROM gcra WHERE tat_us < ?", (self.clock_us(),)).rowcount

    def _take(self, key: str, count: int, *, rate_per_second: float, burst: int) -> tuple[int, int]:
        interval, burst = interval_us(rate_per_second), check_burst(burst)
        try:
            step = self._step(key, count=int(count), interval=interval, burst=burst)
        except (sqlite3.Error, OSError) as error:  # locked too long, disk full, data dir unwritable
            log_outage(backend="sqlite", key=key, error=error)
            return 0, int(FAIL_CLOSED_RETRY_SECONDS * MICROSECONDS)
        self._maybe_prune()
        return step.granted, step.retry_after_us

    def _step(self, key: str, *, count: int, interval: int, burst: int) -> GcraStep:
        with self.file.immediate() as connection:
            row = connection.execute("SELECT tat_us FROM gcra WHERE key = ?", (key,)).fetchone()
            step = gcra_step(
                tat_us=row[0] if row else None,
                now_us=self.clock_us(),
                count=count,
                interval_us=interval,
                burst=burst,
            )
            if step.granted:
                connection.execute(
                    "INSERT INTO gcra (key, tat_us) VALUES (?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET tat_us = excluded.tat_us",
                    (key, step.tat_us),
                )
        return step

    def _charge(self, key: str, count: int, interval: int, max_ahead_us: int) -> None:
        try:
            with self.file.immediate() as connection:
                row = connection.execute("SELECT tat_us FROM gcra WHERE key = ?", (key,)).fetchone()
                tat = gcra_charge(
                    tat_us=row[0] if row else None,
                    now_us=self.clock_us(),
                    count=count,
                    interval_us=interval,
                    max_ahead_us=max_ahead_us,
                )
                connection.execute(
                    "INSERT INTO gcra (key, tat_us) VALUES (?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET tat_us = excluded.tat_us",
                    (key, tat),
                )
        except (sqlite3.Error, OSError) as error:  # a missed charge sends a little faster; never block ingest
            log_outage(backend="sqlite", key=key, error=error)

    def _cooldown(self, key: str, operation: str) -> tuple[int, int]:
        try:
            with self.file.immediate() as connection:
                row = connection.execute(
                    "SELECT until_us, level, probe_us, expires_us FROM cooldown WHERE key = ?", (key,)
                ).fetchone()
                state, now = (CooldownState(*row) if row else None), self.clock_us()
                if operation == "gate":
                    new, first, second = cooldown_gate(state, now)
                else:
                    new = OPERATIONS[operation](state, now)
                    first, second = (new.level, max(new.until_us - now, 0)) if new else (0, 0)
                if new is None:
                    connection.execute("DELETE FROM cooldown WHERE key = ?", (key,))
                elif new != state:
                    connection.execute(
                        "INSERT OR REPLACE INTO cooldown VALUES (?, ?, ?, ?, ?)",
                        (key, new.until_us, new.level, new.probe_us, new.expires_us),
                    )
        except (sqlite3.Error, OSError) as error:
            log_outage(backend="sqlite", key=key, error=error)
            return 0, int(FAIL_CLOSED_RETRY_SECONDS * MICROSECONDS)
        return first, second

    def _maybe_prune(self) -> None:
        now = time.monotonic()
        if now - self._last_prune >= PRUNE_EVERY_SECONDS:
            self._last_prune = now
            try:
                self.prune()
            except sqlite3.Error as error:  # the decision is made; a missed sweep waits for the next
                log_outage(backend="sqlite prune", key="gcra", error=error)
