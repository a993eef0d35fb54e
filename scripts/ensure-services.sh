#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1 (5432, 6379) for the test
# suite and benchmarks: install them from Debian's packages if missing, start
# them if stopped, and make the postgres role reachable over TCP. Assumes
# nothing about what a previous session left running. Needs root to install.
set -euo pipefail

PG_PASSWORD=${WACO_TEST_PG_PASSWORD:-postgres}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
say() { printf 'services: %s\n' "$*"; }

apt_updated=0
apt_install() {
  if [ $apt_updated = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() { # name, command...
  local name=$1; shift
  for _ in $(seq 1 60); do "$@" && return 0; sleep 0.5; done
  say "$name did not come up"; return 1
}

redis_answers() {
  exec 3<>/dev/tcp/127.0.0.1/6379 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  local reply; read -r -t 2 reply <&3 || return 1
  exec 3>&-
  [[ $reply == +PONG* ]]
}

pg_answers() { PGPASSWORD=$PG_PASSWORD PGCONNECT_TIMEOUT=3 psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; }

# --- PostgreSQL ---------------------------------------------------------------
if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
  say "installing postgresql"; apt_install postgresql
fi
if ! port_open 5432; then
  say "starting postgresql"
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start
  wait_for postgresql port_open 5432
fi
if ! pg_answers; then
  # A fresh Debian install asks for a password over TCP: give the postgres
  # role the one the tests use (through the local socket, as the postgres user).
  say "setting the postgres role's password for TCP connections"
  as_root su postgres -c "psql -qc \"ALTER ROLE postgres PASSWORD '$PG_PASSWORD'\"" >/dev/null
  wait_for "postgresql login" pg_answers
fi
# The database `make demo` with DATABASE_URL and `make bench` use; tests create their own.
if ! PGPASSWORD=$PG_PASSWORD psql -h 127.0.0.1 -U postgres -Atqc "select 1 from pg_database where datname='waco'" | grep -q 1; then
  PGPASSWORD=$PG_PASSWORD psql -h 127.0.0.1 -U postgres -qc 'CREATE DATABASE waco' >/dev/null
fi

# --- Redis --------------------------------------------------------------------
if ! redis_answers; then
  command -v redis-server >/dev/null || { say "installing redis-server"; apt_install redis-server; }
  say "starting redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  wait_for redis redis_answers
fi
say "postgresql and redis answer on 127.0.0.1"
