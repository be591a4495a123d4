#!/usr/bin/env bash
# make demo-routes: lars-agent on the bundled routes file alone (no route or report
# service), lars-loadgen against it for a few seconds with production-like traffic, then
# the loadgen's report and the agent's view.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${DEMO_SECONDS:-5}
ports=${PORTS:-8888,8889,8890}
admin=${ADMIN:-127.0.0.1:16061}
mkdir -p bin
go build -o bin/ ./cmd/lars-agent ./cmd/lars-loadgen

echo "== starting lars-agent on 127.0.0.1 ports $ports with examples/routes.txt (101 services)"
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

echo "== lars-loadgen: ${seconds}s closed loop, 64 in flight, 90% get_host / 5% get_route / 5% report,"
echo "   services 1-100 (zipf), a report after every get_host, host 10.0.1.1:8001 failing every call"
bin/lars-loadgen -target 127.0.0.1 -ports "$ports" -modids 1-100 -cmdids 1 -spread zipf \
  -mix get_host=90,get_route=5,report=5 -fail-hosts 10.0.1.1:8001 \
  -concurrency 64 -duration "${seconds}s" -warmup 1s -quiet

echo
echo "== the agent's view (http://$admin/metrics)"
curl -sf "http://$admin/metrics" | grep -E '^lars_agent_(requests_total\{msgid="[467]"|get_host_answers_total|drops_total|keys|hosts)' \
  | grep -v ' 0$' || true
echo
echo "== service 1/1 in the agent's table (http://$admin/routes): the failing host is overloaded"
curl -sf "http://$admin/routes" | python3 -c 'import json,sys
for r in json.load(sys.stdin):
    if (r["modid"], r["cmdid"]) == (1, 1):
        for h in r["hosts"]:
            print("  %-16s %-10s vsucc=%-4d verr=%-3d rsucc=%-6d rerr=%d" % (h["addr"], h["state"], h["vsucc"], h["verr"], h["rsucc"], h["rerr"]))' 2>/dev/null \
  || curl -sf "http://$admin/routes" | head -40
