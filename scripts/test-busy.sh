#!/usr/bin/env bash
# make test-busy: the test suite on a machine as busy as a shared CI host.
#
# Beside this run, for as long as it lasts:
#   - a second clone of this checkout's HEAD runs its race-enabled suite
#     (go test -race -count=1 ./...) in a loop, and
#   - one CPU-bound process spins.
# Meanwhile, in this tree:
#   1. make test with an empty build cache, as on a fresh machine (the race build of
#      later packages then runs while earlier packages' tests run);
#   2. the packages whose tests drive real load, BUSY_COUNT (5) times each under -race;
#   3. the short demo (DEMO_SECONDS=2 make demo, as .ci/run runs it), BUSY_DEMOS (3)
#      times.
# Every step runs even when an earlier one failed; the summary at the end names each
# failed step and the tests that failed in it, and the exit status is 1 if any failed.
# This is how to check a change to a test that waits, sleeps or runs load: such a test
# must pass here, not only on a quiet machine.
#
# Knobs: BUSY_COUNT (5), BUSY_DEMOS (3), BUSY_PKGS (the load-driving packages),
# BUSY_LOOP (1: run the second clone's loop; 0: only the CPU-bound process),
# BUSY_KEEP (1: keep the work folder with every step's output).
set -uo pipefail
cd "$(dirname "$0")/.."

count=${BUSY_COUNT:-5}
demos=${BUSY_DEMOS:-3}
pkgs=${BUSY_PKGS:-./loadgen/... ./chaos/ ./agent/... ./api/... ./routesvc/ ./reportsvc/ ./cmd/... ./benchmarks/ ./internal/batchio/ ./internal/tcpserve/ ./internal/echo/ ./internal/daemon/}

work=$(mktemp -d "${TMPDIR:-/tmp}/lars-test-busy.XXXXXX")
bg=()
cleanup() {
  local pid
  for pid in "${bg[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${bg[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${BUSY_KEEP:-}" = 1 ]; then
    echo "test-busy: outputs kept in $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

# background CMD...: runs CMD in a process group of its own, so cleanup stops all of it.
background() {
  setsid "$@" &
  bg+=($!)
}

if [ "${BUSY_LOOP:-1}" = 1 ]; then
  git clone -q --no-local . "$work/clone" || exit 1
  # The second suite gets no MariaDB (it must not stop or share the one this run may
  # use) and a build cache of its own, as a second clone on a CI host would have.
  background env -u LARS_TEST_MYSQL_DSN -u LARS_TEST_MYSQL_CTL -u LARS_TEST_MYSQL_OUTAGE \
    GOCACHE="$work/clone-cache" GOFLAGS= bash -c '
      cd "$1" && n=0
      while :; do
        n=$((n + 1))
        if go test -race -count=1 ./... >"$2/loop-$n.txt" 2>&1; then r=ok; else r=FAIL; fi
        echo "$(date +%T) second clone: suite run $n: $r" >>"$2/loop.txt"
      done' loop "$work/clone" "$work"
  echo "test-busy: a second clone's race suite runs in a loop in $work/clone"
fi
background bash -c 'while :; do :; done'
echo "test-busy: one CPU-bound process spins"

failed=()
steps=0
# step NAME CMD...: runs CMD with its output shown and kept; records a failure.
step() {
  local name=$1 log
  shift
  steps=$((steps + 1))
  log="$work/step-$steps.txt"
  echo
  echo "== test-busy: $name ($(date +%T))"
  local start=$SECONDS
  if "$@" 2>&1 | tee "$log"; then
    echo "== test-busy: $name passed in $((SECONDS - start)) s"
  else
    echo "== test-busy: $name FAILED in $((SECONDS - start)) s"
    local names
    names=$(grep -hoE -- '--- FAIL: [^ ]+|^FAIL[[:space:]]+[^ ]+|^FAIL .*' "$log" | sort -u | tr '\n' ';')
    failed+=("$name: ${names:-see its output}")
  fi
}

step "make test (empty build cache)" env GOCACHE="$work/gocache" make test
step "load-driving packages, -race -count=$count" \
  env GOCACHE="$work/gocache" go test -race -count="$count" -timeout 60m $pkgs
for i in $(seq "$demos"); do
  step "DEMO_SECONDS=2 make demo ($i of $demos)" \
    env GOCACHE="$work/gocache" DEMO_SECONDS=2 PORTS=28888,28889,28890 make demo
done

echo
if [ -f "$work/loop.txt" ]; then
  echo "test-busy: the second clone's loop meanwhile:"
  sed 's/^/  /' "$work/loop.txt"
fi
if [ ${#failed[@]} -eq 0 ]; then
  echo "test-busy: every step passed"
  exit 0
fi
echo "test-busy: ${#failed[@]} step(s) failed:"
printf '  %s\n' "${failed[@]}"
exit 1
