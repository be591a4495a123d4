#!/usr/bin/env bash
# make demo: the whole system on one machine and one SQLite file in a temporary folder.
# The routes of examples/routes.txt are imported with larsctl; lars-dns serves them,
# lars-agent pulls them from it (no routes file) and reports call status to
# lars-reporter, which stores it; lars-loadgen runs production-like traffic against the
# agent, with one host failing every call. During the run a host is added to service
# 1/1 with larsctl route add and the agent serves it; at the end larsctl status shows
# the failing host overloaded, as lars-reporter stored it. lars-console, the web
# console, runs on the same store; its address is printed once the whole system runs,
# with how to log in: its first start makes the account "admin", whose random password
# it writes to a file of mode 0600 beside the store (the checks log in with it too).
# Everything started is stopped, and the folder removed, on exit or Ctrl-C
# (DEMO_KEEP=1 keeps the system running at the end until Ctrl-C, to look around).
#
# The script exits 1 unless the added host was served by the agent, larsctl status
# shows the failing host overloaded and the console lists the added host, so CI can run
# it as a check. After the load, an instance registers itself with larsctl register
# (lars-dns runs with -allow-register: the demo is on loopback, where every process is
# trusted): the agent serves it, larsctl route list shows it registered, and once the
# registering process is SIGKILLed it expires after its TTL; the script exits 1 unless
# both happened. If the measured run ends before calls to the added host are reported
# (a busy machine), load on service 1/1 goes on until they are, for at most DEMO_WAIT s.
#
# Knobs: DEMO_SECONDS (5, the measured span of the load), PORTS (agent UDP ports,
# 8888,8889,8890), DNS_LISTEN (127.0.0.1:17778), REPORTER_LISTEN (127.0.0.1:17779),
# ADMIN (the agent's admin, 127.0.0.1:16061), DNS_ADMIN (127.0.0.1:16062),
# REPORTER_ADMIN (127.0.0.1:16063), CONSOLE (lars-console, 127.0.0.1:18080), DEMO_KEEP
# (1: keep running at the end until Ctrl-C), DEMO_WAIT (30: the bound, in seconds, of
# every wait for an event: a service up, a push, a report stored).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${DEMO_SECONDS:-5}
ports=${PORTS:-8888,8889,8890}
dns=${DNS_LISTEN:-127.0.0.1:17778}
reporter=${REPORTER_LISTEN:-127.0.0.1:17779}
admin=${ADMIN:-127.0.0.1:16061}
dns_admin=${DNS_ADMIN:-127.0.0.1:16062}
reporter_admin=${REPORTER_ADMIN:-127.0.0.1:16063}
console=${CONSOLE:-127.0.0.1:18080}
failing=10.0.1.1:8001 # every call to it fails (lars-loadgen -fail-hosts)
added_ip=10.0.1.11 added_port=8011
reg_modid=200 reg_cmdid=1 reg_port=9200 reg_ttl=3s # the instance that registers itself

mkdir -p bin
go build -o bin/ ./cmd/larsctl ./cmd/lars-dns ./cmd/lars-reporter ./cmd/lars-agent ./cmd/lars-loadgen ./cmd/lars-console

dir=$(mktemp -d "${TMPDIR:-/tmp}/lars-demo.XXXXXX")
db="sqlite:$dir/lars.db"
pids=()
# cleanup stops what was started, newest first (the agent before the services it
# uses), and removes the folder.
cleanup() {
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT TERM

# start CMD...: runs CMD in the background, in a session of its own so that Ctrl-C
# reaches only this script, which then stops everything in order.
start() {
  if command -v setsid >/dev/null; then setsid "$@" & else "$@" & fi
  pids+=($!)
}

larsctl() { bin/larsctl -db "$db" -ports "$ports" "$@"; }

# Every wait below is for an event, bounded by a deadline a working system never
# reaches even on a machine stalled for seconds; none judges speed.
bound=${DEMO_WAIT:-30} # seconds

# until_ok SECONDS CMD...: runs CMD every 0.1 s until it succeeds (0) or SECONDS pass (1).
until_ok() {
  local end=$((SECONDS + $1))
  shift
  while :; do
    "$@" && return 0
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep "${UNTIL_PAUSE:-0.1}"
  done
}

# wait_up NAME PID URL: waits until URL answers 200 (at most $bound s), failing if NAME exits.
wait_up() {
  up() {
    curl -sf "$3" >/dev/null 2>&1 && return 0
    if ! kill -0 "$2" 2>/dev/null; then
      echo "$1 did not start (an address in use? see the knobs at the top of scripts/demo.sh)"
      exit 1
    fi
    return 1
  }
  until_ok "$bound" up "$@" && return 0
  echo "$1 is not ready after $bound s ($3)"
  exit 1
}

# elapsed_ms START: milliseconds since START (an $EPOCHREALTIME).
elapsed_ms() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }

echo "== the route store: $db"
echo "\$ larsctl route import examples/routes.txt"
larsctl route import examples/routes.txt

echo "== lars-dns on $dns, lars-reporter on $reporter (admin endpoints $dns_admin, $reporter_admin)"
start bin/lars-dns -db "$db" -listen "$dns" -admin "$dns_admin" -log-level warn -allow-register
wait_up lars-dns "${pids[-1]}" "http://$dns_admin/healthz"
start bin/lars-reporter -db "$db" -listen "$reporter" -admin "$reporter_admin" -log-level warn
wait_up lars-reporter "${pids[-1]}" "http://$reporter_admin/healthz"

echo "== lars-agent on UDP ports $ports: routes from lars-dns, status to lars-reporter every 1s"
start bin/lars-agent -dns "$dns" -reporter "$reporter" -ports "$ports" -admin "$admin" -log-level warn
wait_up lars-agent "${pids[-1]}" "http://$admin/healthz"

password_file="$dir/lars-console-initial-password"
start bin/lars-console -db "$db" -listen "$console" -log-level warn
console_pid=${pids[-1]}
wait_up lars-console "$console_pid" "http://$console/login"
echo "== lars-console, the web console of the route store: open http://$console/"
echo "   and log in as admin with the password in $password_file (mode 0600, made at its first start)"
echo "   (services, hosts and call status, add/remove hosts, changes; DEMO_KEEP=1 make demo keeps it running)"

echo "== lars-loadgen: ${seconds}s closed loop after 1s warm-up, 64 in flight, 90% get_host / 5% get_route /"
echo "   5% report, services 1-100 (zipf), a report after every get_host, host $failing failing every call"
start bin/lars-loadgen -target 127.0.0.1 -ports "$ports" -modids 1-100 -cmdids 1 -spread zipf \
  -mix get_host=90,get_route=5,report=5 -fail-hosts "$failing" \
  -concurrency 64 -duration "${seconds}s" -warmup 1s -quiet >"$dir/loadgen.txt" 2>&1
loadgen=${pids[-1]}

# The agent pulls a key on its first request for it (the warm-up absorbs those
# answers); once it holds service 1/1, a host is added to it in the store.
holds_1_1() { larsctl -reg=false get-route 1 1 >/dev/null 2>&1; }
until_ok "$bound" holds_1_1 || echo "   (the agent did not hold service 1/1 after $bound s; adding the host anyway)"
echo
echo "== during the run: a host added to service 1/1 in the route store"
echo "\$ larsctl route add 1 1 $added_ip $added_port"
larsctl route add 1 1 "$added_ip" "$added_port"
added_at=$EPOCHREALTIME
served=
serves_added() {
  larsctl -reg=false get-route 1 1 >"$dir/route.txt" 2>/dev/null &&
    grep -qx "$added_ip:$added_port" "$dir/route.txt"
}
if UNTIL_PAUSE=0.005 until_ok "$bound" serves_added; then served=$(elapsed_ms "$added_at"); fi
if [ -n "$served" ]; then
  echo "   the agent serves it ${served} ms later (asked by a new larsctl each 5 ms): lars-dns saw the commit and pushed the new host set"
  echo "\$ larsctl get-route 1 1"
  echo "   ..."
  tail -n 3 "$dir/route.txt" | sed 's/^/   /'
else
  echo "   the agent did not serve $added_ip:$added_port within $bound s"
fi

status=0
wait "$loadgen" || status=$?
echo
echo "== lars-loadgen's report"
awk 'NF { for (; blank > 0; blank--) print ""; print; next } { blank++ }' "$dir/loadgen.txt" # no trailing blank lines
if [ "$status" != 0 ]; then
  echo "lars-loadgen failed (exit $status)"
  exit 1
fi

# The agent reports each key's status at most once a second; wait for the last one.
# has_status HOST AWK-CONDITION: whether status.txt has a row of HOST meeting it.
has_status() { awk -v h="$1" '$2 == h && '"$2"' { found = 1 } END { exit !found }' "$dir/status.txt"; }
status_shown() {
  larsctl status 1 1 >"$dir/status.txt" 2>/dev/null &&
    has_status "$failing" '$7 == "yes"' && has_status "$added_ip:$added_port" '$4 > 0'
}
# On a busy machine the push of the added host can come after a short run has ended,
# so no call went to it yet: then load on service 1/1 goes on (same mix, same failing
# host, its report discarded) until the added host's calls and the failing host's
# overload are stored, for at most $bound s.
if ! status_shown; then
  start bin/lars-loadgen -target 127.0.0.1 -ports "$ports" -modids 1 -cmdids 1 \
    -mix get_host=90,get_route=5,report=5 -fail-hosts "$failing" \
    -concurrency 8 -duration "${bound}s" -quiet >/dev/null 2>&1
  more_load=${pids[-1]}
  echo
  echo "== load on service 1/1 goes on until the added host's calls are reported (at most $bound s)"
  until_ok "$bound" status_shown || true
  kill "$more_load" 2>/dev/null || true
  wait "$more_load" 2>/dev/null || true
fi
echo
echo "== the call status lars-reporter stored: $failing overloaded, $added_ip:$added_port in use"
echo "\$ larsctl status 1 1"
cat "$dir/status.txt"
echo "\$ larsctl status | tail -n 1"
larsctl status | tail -n 1

echo
echo "== an instance that registers itself through the agent, kept alive in the foreground"
echo "\$ larsctl register $reg_modid $reg_cmdid 127.0.0.1 $reg_port -ttl $reg_ttl &"
start bin/larsctl -ports "$ports" register "$reg_modid" "$reg_cmdid" 127.0.0.1 "$reg_port" -ttl "$reg_ttl" >"$dir/register.txt" 2>&1
register_pid=${pids[-1]}
registered_at=$EPOCHREALTIME
reg_served=
reg_expired=
# serves_registered: whether the agent answers the registered instance in the key's route.
serves_registered() {
  larsctl -reg=false get-route "$reg_modid" "$reg_cmdid" >"$dir/reg-route.txt" 2>/dev/null &&
    grep -qx "127.0.0.1:$reg_port" "$dir/reg-route.txt"
}
larsctl get-route "$reg_modid" "$reg_cmdid" >/dev/null 2>&1 || true # the agent subscribes to the key
if UNTIL_PAUSE=0.005 until_ok "$bound" serves_registered; then reg_served=$(elapsed_ms "$registered_at"); fi
if [ -n "$reg_served" ]; then
  echo "   the agent serves 127.0.0.1:$reg_port for $reg_modid/$reg_cmdid ${reg_served} ms after larsctl register started"
  echo "\$ larsctl route list $reg_modid $reg_cmdid"
  larsctl route list "$reg_modid" "$reg_cmdid" | sed 's/^/   /'
  echo "\$ kill -KILL <larsctl register>   # it stops keeping the instance alive"
  kill -KILL "$register_pid" 2>/dev/null || true
  killed_at=$EPOCHREALTIME
  wait "$register_pid" 2>/dev/null || true
  # gone: the agent answers the key's route, without the instance.
  gone() {
    larsctl -reg=false get-route "$reg_modid" "$reg_cmdid" >"$dir/reg-route.txt" 2>/dev/null
    case $? in 0 | 4) ! grep -qx "127.0.0.1:$reg_port" "$dir/reg-route.txt" ;; *) return 1 ;; esac
  }
  if UNTIL_PAUSE=0.02 until_ok "$bound" gone; then
    reg_expired=$(elapsed_ms "$killed_at")
    echo "   gone from the agent's route ${reg_expired} ms later: the agent dropped it after its $reg_ttl TTL and lars-dns pushed the change"
    echo "\$ larsctl route history $reg_modid $reg_cmdid -n 2"
    larsctl route history "$reg_modid" "$reg_cmdid" -n 2 | sed 's/^/   /'
  fi
else
  echo "   the agent did not serve the registered instance within $bound s; larsctl register said:"
  sed 's/^/   /' "$dir/register.txt"
fi

echo
echo "== checks"
fail=0
if [ -n "$reg_served" ] && [ -n "$reg_expired" ]; then
  echo "ok   the instance registered with larsctl register was served (${reg_served} ms) and expired"
  echo "     ${reg_expired} ms after its process was killed (TTL $reg_ttl)"
else
  echo "FAIL the registered instance was not served, or did not expire once its process was killed"
  fail=1
fi
jar="$dir/console-cookies"
page=""
if [ -r "$password_file" ] &&
  tr -d '\n' <"$password_file" |
    curl -sf -o /dev/null -c "$jar" --data-urlencode name=admin --data-urlencode "password@-" "http://$console/login"; then
  page=$(curl -sf -b "$jar" "http://$console/service/1/1" || true)
fi
if ! kill -0 "$console_pid" 2>/dev/null; then
  echo "FAIL lars-console is not running (was $console in use by another program?)"
  fail=1
elif [[ $page == *"data-host=\"$added_ip:$added_port\""* ]]; then
  echo "ok   lars-console lists $added_ip:$added_port on http://$console/service/1/1"
else
  echo "FAIL lars-console does not list $added_ip:$added_port on http://$console/service/1/1"
  fail=1
fi
if [ -z "$served" ]; then
  echo "FAIL the host added during the run never reached the agent's route for 1/1"
  fail=1
elif ! has_status "$added_ip:$added_port" '$4 > 0'; then
  echo "FAIL the host added during the run reached the agent's route but no call to it was reported"
  fail=1
else
  echo "ok   the host added during the run was served by the agent: in its route ${served} ms after"
  echo "     larsctl route add, and calls to it reported"
fi
if has_status "$failing" '$7 == "yes"'; then
  echo "ok   larsctl status shows $failing overloaded, as lars-reporter stored it"
else
  echo "FAIL larsctl status does not show $failing overloaded"
  fail=1
fi
if [ "${DEMO_KEEP:-}" = 1 ]; then
  echo
  echo "== the system keeps running: open http://$console/ (Ctrl-C stops everything)"
  while kill -0 "${pids[0]}" 2>/dev/null; do sleep 1; done
fi
exit "$fail"
