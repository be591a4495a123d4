#!/usr/bin/env bash
# make profile: start lars-agent on the bundled routes with its admin endpoint, drive it
# with lars-loadgen for PROFILE_SECONDS, capture CPU, allocation, heap, mutex and block
# profiles of the agent into PROFILE_DIR, and print the top entries of each.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${PROFILE_SECONDS:-10}
dir=${PROFILE_DIR:-profiles/$(date +%Y%m%d-%H%M%S)}
ports=${PORTS:-18888,18889,18890}
admin=${ADMIN:-127.0.0.1:16060}
mkdir -p bin "$dir"
go build -o bin/ ./cmd/lars-agent ./cmd/lars-loadgen

bin/lars-agent -routes examples/routes.txt -ports "$ports" -admin "$admin" -log-level warn &
agent=$!
trap 'kill "$agent" 2>/dev/null; wait "$agent" 2>/dev/null || true' EXIT
# Wait for the agent's admin endpoint (at most 30 s: a bound, not a speed).
up=
for _ in $(seq 300); do
  curl -sf "http://$admin/healthz" >/dev/null 2>&1 && { up=1; break; }
  kill -0 "$agent" 2>/dev/null || { echo "lars-agent did not start (ports $ports busy? set PORTS=...)"; exit 1; }
  sleep 0.1
done
[ -n "$up" ] || { echo "lars-agent is not ready after 30 s (http://$admin/healthz)"; exit 1; }

# Delta profiles over the load's span, fetched while the load runs.
for kind in allocs mutex block; do
  curl -sf -o "$dir/$kind.pprof" "http://$admin/debug/pprof/$kind?seconds=$seconds" &
done
bin/lars-loadgen -target 127.0.0.1 -ports "$ports" -modids 1-100 -cmdids 1 \
  -mix get_host=90,get_route=5,report=5 -concurrency 256 -duration "${seconds}s" -warmup 0s \
  -profile "http://$admin" -profile-out "$dir/cpu.pprof" -json "$dir/loadgen.json" > "$dir/loadgen.txt"
wait $(jobs -p | grep -v "^$agent\$") 2>/dev/null || true
curl -sf -o "$dir/heap.pprof" "http://$admin/debug/pprof/heap"
curl -sf -o "$dir/goroutine.pprof" "http://$admin/debug/pprof/goroutine"

cat "$dir/loadgen.txt"
for kind in cpu allocs heap mutex block; do
  f="$dir/$kind.pprof"
  [ -s "$f" ] || { echo "== $kind: no profile"; continue; }
  echo
  echo "== $kind ($f)"
  extra=""
  [ "$kind" = allocs ] && extra="-sample_index=alloc_objects"
  go tool pprof -top -nodecount=15 $extra bin/lars-agent "$f" 2>/dev/null | sed -n '1,25p'
done
echo
echo "profiles in $dir; explore one with: go tool pprof -http=127.0.0.1:8080 bin/lars-agent $dir/cpu.pprof"
