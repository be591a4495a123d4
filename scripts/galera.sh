#!/usr/bin/env bash
# A private 3-node MariaDB Galera cluster for tests, without systemd, on loopback:
# scripts/galera.sh start|stop|status|env
#
#   start   install Debian's mariadb-server and galera-4 if missing, create each node's data
#           directory on first use, start node 1 (bootstrapping the cluster when no node
#           runs) then nodes 2 and 3, and wait until the three are Synced in one cluster
#           of 3; create the user lars (password lars, all privileges) and the database
#           lars. Does nothing for a node that already answers.
#   stop    shut the nodes down cleanly, 3 then 2 then 1 (the last one down is the one
#           start bootstraps from); the data is kept.
#   status  print each node's state; exit 0 if all three are Synced, 3 if not.
#   env     print the export lines the tests read (eval "$(scripts/galera.sh env)"):
#           LARS_TEST_GALERA_DSNS, one DSN per node, comma-separated.
#
# Settings (environment): LARS_GALERA_DIR (/tmp/lars-galera: one folder per node),
# LARS_GALERA_PORT (23331: node i answers SQL on PORT+i-1 and uses 24331+10(i-1) to
# +2 for group communication, incremental and full state transfer). Run as root, the
# nodes run as the mysql user with their folders owned by it: Galera's rsync state
# transfer needs that. Below Linux's ephemeral range, as scripts/mariadb.sh's port.
set -euo pipefail

dir=${LARS_GALERA_DIR:-/tmp/lars-galera}
base=${LARS_GALERA_PORT:-23331}
nodes=3
gbase=24331
user=lars
password=lars # a test fixture on a loopback-only cluster

if [ "$(id -u)" -eq 0 ]; then runas=mysql; else runas=$(id -un); fi

find_tool() {
  local b
  for b in "$@"; do
    command -v "$b" 2>/dev/null && return 0
    [ -x "/usr/sbin/$b" ] && { echo "/usr/sbin/$b"; return 0; }
  done
  echo "galera.sh: cannot find any of: $*" >&2
  return 1
}

provider() {
  local p
  for p in /usr/lib/galera/libgalera_smm.so /usr/lib/libgalera_smm.so /usr/lib64/galera-4/libgalera_smm.so; do
    [ -f "$p" ] && { echo "$p"; return 0; }
  done
  return 1
}

install() {
  if find_tool mariadbd mysqld >/dev/null 2>&1 && provider >/dev/null && command -v rsync >/dev/null; then
    return 0
  fi
  echo "galera.sh: installing mariadb-server, galera-4 and rsync with apt-get" >&2
  command -v apt-get >/dev/null || { echo "galera.sh: no apt-get: install MariaDB and Galera yourself" >&2; exit 1; }
  local sudo=
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -q >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mariadb-server galera-4 rsync >&2
}

ndir() { echo "$dir/node$1"; }
nport() { echo $((base + $1 - 1)); }
gport() { echo $((gbase + 10 * ($1 - 1))); }
sock() { echo "$(ndir "$1")/mariadb.sock"; }

client() { local n=$1; shift; "$(find_tool mariadb mysql)" --no-defaults --socket="$(sock "$n")" --user=root "$@"; }
admin() { local n=$1; shift; "$(find_tool mariadb-admin mysqladmin)" --no-defaults --socket="$(sock "$n")" --user=root "$@"; }
answers() { [ -S "$(sock "$1")" ] && admin "$1" --connect-timeout=2 ping >/dev/null 2>&1; }
wsrep() { client "$1" -N -e "SHOW STATUS LIKE '$2'" 2>/dev/null | awk '{print $2}'; }
synced() { answers "$1" && [ "$(wsrep "$1" wsrep_local_state_comment)" = Synced ]; }

cluster_address() {
  local i a=
  for i in $(seq "$nodes"); do a="$a${a:+,}127.0.0.1:$(gport "$i")"; done
  echo "gcomm://$a"
}

# init creates node n's data directory, owned by the account the node runs as.
init() {
  local n=$1 d
  d=$(ndir "$n")
  mkdir -p "$d"
  [ "$(id -u)" -ne 0 ] || chown "$runas:" "$dir" "$d"
  [ -d "$d/data/mysql" ] && return 0
  rm -rf "$d/data"
  "$(find_tool mariadb-install-db mysql_install_db)" --no-defaults --datadir="$d/data" --user="$runas" \
    --auth-root-authentication-method=socket --skip-test-db >"$d/install.log" 2>&1 \
    || { cat "$d/install.log" >&2; exit 1; }
  [ "$(id -u)" -ne 0 ] || chown -R "$runas:" "$d"
}

# launch starts node n (bootstrapping a new cluster when new is "new") and waits up to
# 120 s for it to be Synced.
launch() {
  local n=$1 new=${2:-} d g i pid extra=()
  d=$(ndir "$n")
  g=$(gport "$n")
  if [ "$new" = new ]; then
    extra+=(--wsrep-new-cluster)
    # The last node down is safe to bootstrap from; stop takes node 1 down last.
    [ -f "$d/data/grastate.dat" ] && sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' "$d/data/grastate.dat"
  fi
  rm -f "$(sock "$n")"
  setsid "$(find_tool mariadbd mysqld)" --no-defaults --user="$runas" --datadir="$d/data" \
    --socket="$(sock "$n")" --pid-file="$d/mariadb.pid" --log-error="$d/mariadb.log" \
    --port="$(nport "$n")" --bind-address=127.0.0.1 --skip-name-resolve --max-connections=500 \
    --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=0 --sync-binlog=0 \
    --character-set-server=utf8mb4 --binlog-format=ROW --default-storage-engine=InnoDB \
    --innodb-autoinc-lock-mode=2 --wsrep-on=ON --wsrep-provider="$(provider)" \
    --wsrep-cluster-name=lars-test --wsrep-cluster-address="$(cluster_address)" \
    --wsrep-node-name="node$n" --wsrep-node-address="127.0.0.1:$g" \
    --wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:$g;ist.recv_addr=127.0.0.1:$((g + 1));gcache.size=64M" \
    --wsrep-sst-method=rsync --wsrep-sst-receive-address="127.0.0.1:$((g + 2))" \
    "${extra[@]}" </dev/null >>"$d/mariadb.log" 2>&1 &
  pid=$!
  for i in $(seq 1200); do
    synced "$n" && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "galera.sh: node $n exited while starting; its log:" >&2
      tail -25 "$d/mariadb.log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "galera.sh: node $n was not Synced within 120 s; its log:" >&2
  tail -25 "$d/mariadb.log" >&2
  return 1
}

start() {
  install
  mkdir -p "$dir"
  local n running=0
  for n in $(seq "$nodes"); do
    init "$n"
    answers "$n" && running=$((running + 1))
  done
  for n in $(seq "$nodes"); do
    answers "$n" && continue
    if [ "$running" -eq 0 ]; then
      launch "$n" new || exit 1
    else
      launch "$n" || exit 1
    fi
    running=$((running + 1))
  done
  local size
  size=$(wsrep 1 wsrep_cluster_size)
  [ "$size" = "$nodes" ] || { echo "galera.sh: cluster size $size, want $nodes" >&2; exit 1; }
  client 1 -e "CREATE USER IF NOT EXISTS '$user'@'127.0.0.1' IDENTIFIED BY '$password';
    CREATE USER IF NOT EXISTS '$user'@'localhost' IDENTIFIED BY '$password';
    GRANT ALL PRIVILEGES ON *.* TO '$user'@'127.0.0.1' WITH GRANT OPTION;
    GRANT ALL PRIVILEGES ON *.* TO '$user'@'localhost' WITH GRANT OPTION;
    CREATE DATABASE IF NOT EXISTS lars;"
  echo "galera.sh: $nodes nodes Synced on 127.0.0.1:$(nport 1)-$(nport "$nodes"), data in $dir" >&2
}

stop_node() {
  local n=$1 pid i d
  d=$(ndir "$n")
  pid=$(cat "$d/mariadb.pid" 2>/dev/null || true)
  answers "$n" && { admin "$n" --connect-timeout=5 shutdown >/dev/null 2>&1 || true; }
  if [ -n "$pid" ]; then
    for i in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { echo "galera.sh: node $n did not stop in 60 s, killing it" >&2; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  rm -f "$d/mariadb.pid"
}

stop() {
  local n
  for n in $(seq "$nodes" -1 1); do stop_node "$n"; done
  echo "galera.sh: stopped (data kept in $dir)" >&2
}

status() {
  local n ok=0
  for n in $(seq "$nodes"); do
    if answers "$n"; then
      echo "node $n on 127.0.0.1:$(nport "$n"): $(wsrep "$n" wsrep_local_state_comment), cluster size $(wsrep "$n" wsrep_cluster_size)"
      synced "$n" && ok=$((ok + 1))
    else
      echo "node $n on 127.0.0.1:$(nport "$n"): not running"
    fi
  done
  [ "$ok" -eq "$nodes" ] || exit 3
}

env_lines() {
  local n dsns=
  for n in $(seq "$nodes"); do
    dsns="$dsns${dsns:+,}$user:$password@tcp(127.0.0.1:$(nport "$n"))/lars?timeout=5s"
  done
  echo "export LARS_TEST_GALERA_DSNS='$dsns'"
  echo "export LARS_GALERA_DIR='$dir' LARS_GALERA_PORT='$base'"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) env_lines ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
