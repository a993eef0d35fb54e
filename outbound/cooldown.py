"""A number's cool-down after Meta's 130429 (throughput reached): the whole number waits.

A 130429 starts a cool-down of 1 s; another 130429 after it ended doubles it
(2, 4, ... up to 60 s); 30 s without one forgets the count. When a cool-down
ends, one call goes first (the probe); the rest of the number waits until it
comes back clean, so a Meta still saying 130429 costs one call, not a burst.
A 130429 that arrives while the number is already cooling answers a call made
before the cool-down began: it changes nothing.

The state is one record per number in the limiter's store, shared by every
worker: the functions below decide, `COOLDOWN_LUA` is them line for line for
Redis, and the SQLite backend calls them. Microseconds as integers throughout.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

FIRST_US = 1_000_000
MAX_US = 60_000_000
CLEAN_RESET_US = 30_000_000
# A probe whose answer never came back (its worker died) is given up after this.
PROBE_TIMEOUT_US = 5_000_000
# While a probe is out, the others ask again this soon.
PROBE_WAIT_US = 100_000
LEVEL_CAP = 16  # 2**15 s is far past MAX_US: the count need not grow further
PROBE_DUE, PROBE_PASSED = 0, -1
UNLIMITED = -1  # gate: the cool-down limits nothing


@dataclass(frozen=True, slots=True)
class CooldownState:
    until_us: int  # no call before this
    level: int  # consecutive 130429s
    probe_us: int  # PROBE_DUE, PROBE_PASSED, or when the probe went out
    expires_us: int  # the record means nothing from here on (30 clean seconds)


def live(state: CooldownState | None, now_us: int) -> CooldownState | None:
    return state if state is not None and now_us < state.expires_us else None


def cooldown_gate(state: CooldownState | None, now_us: int) -> tuple[CooldownState | None, int, int]:
    """(new state, how many may go: 0, 1 or UNLIMITED, retry after when 0)."""
    state = live(state, now_us)
    if state is None or state.probe_us == PROBE_PASSED and now_us >= state.until_us:
        return state, UNLIMITED, 0
    if now_us < state.until_us:
        return state, 0, state.until_us - now_us
    if state.probe_us == PROBE_DUE or now_us - state.probe_us >= PROBE_TIMEOUT_US:
        return replace(state, probe_us=now_us), 1, 0
    return state, 0, min(PROBE_WAIT_US, state.probe_us + PROBE_TIMEOUT_US - now_us)


def cooldown_throttled(state: CooldownState | None, now_us: int) -> CooldownState:
    """Meta answered 130429: start or double the cool-down (unless one is running)."""
    state = live(state, now_us)
    if state is not None and now_us < state.until_us:
        return state
    level = 1 if state is None else min(state.level + 1, LEVEL_CAP)
    until = now_us + min(FIRST_US * 2 ** (level - 1), MAX_US)
    return CooldownState(until_us=until, level=level, probe_us=PROBE_DUE, expires_us=until + CLEAN_RESET_US)


def cooldown_clean(state: CooldownState | None, now_us: int) -> CooldownState | None:
    """A call after the cool-down was accepted: everyone may go; 30 clean seconds forget the count."""
    state = live(state, now_us)
    if state is None or now_us < state.until_us or state.probe_us == PROBE_PASSED:
        return state
    return replace(state, probe_us=PROBE_PASSED, expires_us=now_us + CLEAN_RESET_US)


def cooldown_release(state: CooldownState | None, now_us: int) -> CooldownState | None:
    """A probe taken and not used (the throughput bucket said wait): another may go."""
    state = live(state, now_us)
    if state is None or state.probe_us <= PROBE_DUE:
        return state
    return replace(state, probe_us=PROBE_DUE)


OPERATIONS = {"throttled": cooldown_throttled, "clean": cooldown_clean, "release": cooldown_release}


# KEYS[1]: the number's cool-down hash. ARGV[1]: gate | throttled | clean | release.
# Returns {allowed, retry_us} for gate, {level, remaining_us} otherwise. The record
# expires (PEXPIREAT) at expires_us, so an absent key is a number with nothing to remember.
COOLDOWN_LUA = f"""
local op = ARGV[1]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local s = redis.call('HMGET', KEYS[1], 'until', 'level', 'probe')
local present = s[1] ~= false
local untilus = tonumber(s[1] or 0)
local level = tonumber(s[2] or 0)
local probe = tonumber(s[3] or 0)
local function save(expires)
  redis.call('HSET', KEYS[1], 'until', string.format('%.0f', untilus), 'level', level,
             'probe', string.format('%.0f', probe))
  redis.call('PEXPIREAT', KEYS[1], math.floor(expires / 1000))  -- never past the record's end
end
local function keep() redis.call('HSET', KEYS[1], 'probe', string.format('%.0f', probe)) end
if op == 'gate' then
  if not present or (probe == {PROBE_PASSED} and now >= untilus) then return {{{UNLIMITED}, 0}} end
  if now < untilus then return {{0, untilus - now}} end
  if probe == {PROBE_DUE} or now - probe >= {PROBE_TIMEOUT_US} then
    probe = now
    keep()
    return {{1, 0}}
  end
  return {{0, math.min({PROBE_WAIT_US}, probe + {PROBE_TIMEOUT_US} - now)}}
elseif op == 'throttled' then
  if present and now < untilus then return {{level, untilus - now}} end
  if present then level = math.min(level + 1, {LEVEL_CAP}) else level = 1 end
  untilus = now + math.min({FIRST_US} * 2 ^ (level - 1), {MAX_US})
  probe = {PROBE_DUE}
  save(untilus + {CLEAN_RESET_US})
  return {{level, untilus - now}}
elseif op == 'clean' then
  if present and now >= untilus and probe ~= {PROBE_PASSED} then
    probe = {PROBE_PASSED}
    save(now + {CLEAN_RESET_US})
  end
  return {{level, 0}}
elseif op == 'release' then
  if present and probe > {PROBE_DUE} then
    probe = {PROBE_DUE}
    keep()
  end
  return {{level, 0}}
end
return redis.error_reply('unknown cool-down operation ' .. op)
"""
