#!/usr/bin/env bash
# A private MariaDB server for tests, without systemd: scripts/mariadb.sh start|stop|status|env
#
#   start   install Debian's mariadb-server if mariadbd is missing, create the data directory
#           on first use, start the server on 127.0.0.1:$LARS_MARIADB_PORT and wait until it
#           answers; create the user lars (password lars, all privileges: tests create a
#           database each) and the database lars. Does nothing if it is already running.
#   stop    shut the server down cleanly (kill by pid if that fails); the data is kept, so
#           start works again (outage tests stop and start it).
#   status  print whether it runs; exit 0 if it answers, 3 if not.
#   env     print the export lines the tests read (eval "$(scripts/mariadb.sh env)"):
#           LARS_TEST_MYSQL_DSN, LARS_TEST_MYSQL_CTL (this script) and the settings below.
#
# Settings (environment): LARS_MARIADB_DIR (/tmp/lars-mariadb: data, socket, pid, log),
# LARS_MARIADB_PORT (23306). The server listens on 127.0.0.1 only. The default port is
# below Linux's ephemeral range (32768-60999): while an outage test has the server
# stopped, any outgoing connection on the machine may take a port in that range as its
# own, and the server could not bind it again when the test starts it.
set -euo pipefail

dir=${LARS_MARIADB_DIR:-/tmp/lars-mariadb}
port=${LARS_MARIADB_PORT:-23306}
data=$dir/data
sock=$dir/mariadb.sock
pidfile=$dir/mariadb.pid
log=$dir/mariadb.log
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
osuser=$(id -un)
# The test account. Its password is a test fixture on a loopback-only server.
user=lars
password=lars
dsn="$user:$password@tcp(127.0.0.1:$port)/lars?timeout=5s"

find_server() {
  local b
  for b in mariadbd mysqld; do
    command -v "$b" 2>/dev/null && return 0
    [ -x "/usr/sbin/$b" ] && { echo "/usr/sbin/$b"; return 0; }
  done
  return 1
}

find_tool() { # first of the names found: the mariadb-* names, then the old mysql* ones
  local b
  for b in "$@"; do command -v "$b" 2>/dev/null && return 0; done
  echo "cannot find any of: $*" >&2
  return 1
}

install_server() {
  find_server >/dev/null && return 0
  echo "mariadb.sh: mariadbd not found, installing mariadb-server with apt-get" >&2
  command -v apt-get >/dev/null || { echo "mariadb.sh: no apt-get: install MariaDB (mariadbd) yourself" >&2; exit 1; }
  local sudo=
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -q >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mariadb-server >&2
  find_server >/dev/null || { echo "mariadb.sh: mariadb-server installed but mariadbd not found" >&2; exit 1; }
}

admin() { "$(find_tool mariadb-admin mysqladmin)" --no-defaults --socket="$sock" --user="$osuser" "$@"; }
client() { "$(find_tool mariadb mysql)" --no-defaults --socket="$sock" --user="$osuser" "$@"; }

answers() { [ -S "$sock" ] && admin --connect-timeout=2 ping >/dev/null 2>&1; }

server_pid() { [ -f "$pidfile" ] && cat "$pidfile" 2>/dev/null || true; }

# ensure_account creates the test user and database (idempotent).
ensure_account() {
  client -e "CREATE USER IF NOT EXISTS '$user'@'127.0.0.1' IDENTIFIED BY '$password';
    CREATE USER IF NOT EXISTS '$user'@'localhost' IDENTIFIED BY '$password';
    GRANT ALL PRIVILEGES ON *.* TO '$user'@'127.0.0.1' WITH GRANT OPTION;
    GRANT ALL PRIVILEGES ON *.* TO '$user'@'localhost' WITH GRANT OPTION;
    CREATE DATABASE IF NOT EXISTS lars;"
}

# launch starts mariadbd and waits up to 30 s for it to answer; it returns 1, with the
# end of the server's log, if the server exits first (a port still taken, say) or stays silent.
launch() {
  local server=$1 launched i mark
  rm -f "$sock" "$pidfile"
  mark=$(wc -l <"$log" 2>/dev/null || echo 0)
  # Durability settings are relaxed: the data is throwaway, the tests should be fast.
  setsid "$server" --no-defaults --user="$osuser" --datadir="$data" --socket="$sock" \
    --pid-file="$pidfile" --log-error="$log" --port="$port" --bind-address=127.0.0.1 \
    --skip-name-resolve --max-connections=500 --innodb-buffer-pool-size=256M \
    --innodb-log-file-size=256M --innodb-flush-log-at-trx-commit=0 --sync-binlog=0 \
    --innodb-doublewrite=0 --max-allowed-packet=64M --character-set-server=utf8mb4 \
    </dev/null >>"$log" 2>&1 &
  launched=$!
  for i in $(seq 300); do
    answers && return 0
    if ! kill -0 "$launched" 2>/dev/null; then
      echo "mariadb.sh: mariadbd exited while starting; what it logged:" >&2
      tail -n +"$((mark + 1))" "$log" | tail -20 >&2
      return 1
    fi
    sleep 0.1
  done
  echo "mariadb.sh: mariadbd did not answer within 30 s; what it logged:" >&2
  tail -n +"$((mark + 1))" "$log" | tail -20 >&2
  kill -KILL "$launched" 2>/dev/null || true
  return 1
}

start() {
  install_server
  if answers; then
    ensure_account
    echo "mariadb.sh: already running on 127.0.0.1:$port ($dir)" >&2
    return 0
  fi
  local server
  server=$(find_server)
  mkdir -p "$dir"
  if [ ! -d "$data/mysql" ]; then
    echo "mariadb.sh: creating the data directory $data" >&2
    rm -rf "$data"
    # The account running this script gets socket authentication as a MariaDB superuser.
    "$(find_tool mariadb-install-db mysql_install_db)" --no-defaults --datadir="$data" --user="$osuser" \
      --auth-root-authentication-method=socket --skip-test-db >"$dir/install.log" 2>&1 \
      || { cat "$dir/install.log" >&2; exit 1; }
  fi
  local attempt
  for attempt in 1 2 3; do
    launch "$server" && break
    [ "$attempt" -lt 3 ] || exit 1
    echo "mariadb.sh: starting again in 2 s (attempt $((attempt + 1)) of 3)" >&2
    sleep 2
  done
  ensure_account
  echo "mariadb.sh: running on 127.0.0.1:$port, pid $(server_pid), data in $data" >&2
}

stop() {
  local pid i
  pid=$(server_pid)
  if answers; then
    admin --connect-timeout=5 shutdown >/dev/null 2>&1 || true
  fi
  if [ -n "$pid" ]; then
    for i in $(seq 300); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "mariadb.sh: mariadbd $pid did not shut down in 30 s, killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  fi
  rm -f "$pidfile"
  echo "mariadb.sh: stopped (data kept in $data)" >&2
}

status() {
  if answers; then
    echo "running on 127.0.0.1:$port, pid $(server_pid), data in $data"
  else
    echo "not running (data dir $dir)"
    exit 3
  fi
}

env_lines() {
  echo "export LARS_TEST_MYSQL_DSN='$dsn'"
  echo "export LARS_TEST_MYSQL_CTL='$self'"
  echo "export LARS_MARIADB_DIR='$dir' LARS_MARIADB_PORT='$port'"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) env_lines ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
