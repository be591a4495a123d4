# The commands a user types. `make help` lists them.
SHELL       := bash
.SHELLFLAGS := -o pipefail -ec
GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
BENCHSTAT   := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
FUZZTIME    ?= 10s
PKGS        := ./...

# Benchmarks: which (BENCH regexp), how often, and the regression gate of bench-compare.
BENCH           ?= .
BENCH_COUNT     ?= 10
BENCH_PKGS      ?= ./...
BENCH_THRESHOLD ?= 25
BASELINE        := benchmarks/baseline/bench.txt

.PHONY: help demo demo-routes profile build chaos test test-busy test-race test-alloc test-outage lint proto proto-check fuzz bench bench-save bench-compare bench-ci

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

demo: ## the whole system on one SQLite file: routes, lars-dns, lars-reporter, agent, loadgen for DEMO_SECONDS (5), checked
	./scripts/demo.sh

demo-routes: ## agent on the bundled routes file alone, loadgen against it for DEMO_SECONDS (5), a readable report
	./scripts/demo-routes.sh

profile: ## agent under loadgen for PROFILE_SECONDS (10): CPU, allocs, heap, mutex, block profiles and their top entries
	./scripts/profile.sh

.PHONY: mariadb
mariadb: ## start a private MariaDB for the tests (scripts/mariadb.sh) and print the env lines to export
	@./scripts/mariadb.sh start
	@./scripts/mariadb.sh env

build: ## build every package and binary
	$(GO) build $(PKGS)

test: ## vet, every test under the race detector, then the zero-allocation tests
	$(GO) vet $(PKGS)
	$(MAKE) test-race test-alloc test-outage

test-busy: ## make test, the load-driving packages 5x and 3 short demos, beside a second clone's race suite and a CPU-bound process
	./scripts/test-busy.sh

test-race:
	$(GO) test -race -timeout 15m $(PKGS)

# The allocation tests carry //go:build !race (the race detector allocates), so they run
# in a second, race-free pass; each one's name contains "Alloc".
test-alloc:
	$(GO) test -count=1 -timeout 10m -run 'Alloc' $(PKGS)

# The outage tests stop and start the shared MariaDB (LARS_TEST_MYSQL_DSN/_CTL), so they
# run alone, one package at a time, after every other test; each name contains "Outage".
# Without a MariaDB they run their SQLite parts only.
test-outage:
	LARS_TEST_MYSQL_OUTAGE=1 $(GO) test -race -p 1 -count=1 -timeout 10m -run 'Outage' $(PKGS)

lint: ## gofmt check, go vet, staticcheck (pinned), the cross-builds (make cross-build)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)
	GO=$(GO) ./scripts/crossbuild.sh $(CROSS_PKGS)

# The packages business code needs, developed on macOS and Windows too: the client
# library, larsctl and the load generator, with their dependencies. The daemons may be
# Linux-only; make cross-build says which packages are.
CROSS_PKGS := ./api/... ./cmd/larsctl/... ./cmd/lars-loadgen/... ./loadgen/...
.PHONY: cross-build
cross-build: ## CROSS_PKGS must build with GOOS=darwin and GOOS=windows; lists the Linux-only packages
	GO=$(GO) ./scripts/crossbuild.sh $(CROSS_PKGS)

proto: ## regenerate codec/larspb from lars.proto (installs protoc if missing)
	./scripts/gen-proto.sh

proto-check: proto ## fail if the committed generated code differs from a fresh regeneration
	@git diff --exit-code -- codec/larspb || { echo "codec/larspb is stale: run make proto and commit"; exit 1; }

fuzz: ## run every fuzz target for FUZZTIME each
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$target"; \
	    $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

chaos: ## the whole system under load with faults injected (CHAOS_WINDOW per fault, default 4s); prints a table per run
	@log=$$(mktemp); status=0; \
	LARS_CHAOS=1 $(GO) test -count=1 -v -timeout 10m -run . ./chaos/ >$$log 2>&1 || status=$$?; \
	grep -E '^(==|\||---|ok|FAIL|PASS)|_test.go:' $$log || true; \
	if [ $$status -ne 0 ]; then echo "== chaos failed; its whole output:"; cat $$log; fi; \
	rm -f $$log; exit $$status

# The soak runs SOAK long (a Go duration) on SQLite and, with LARS_TEST_MYSQL_DSN set,
# on MariaDB side by side; SOAK_TIMEOUT bounds the whole test binary.
SOAK         ?= 30m
SOAK_TIMEOUT ?= 3h
.PHONY: hostile
hostile: ## the hostile-client suite: floods, silent connections, forged reports and huge lists against the real binaries; asserts every bound holds
	@log=$$(mktemp); status=0; \
	LARS_HOSTILE=1 $(GO) test -count=1 -v -timeout 5m ./hostile/ >$$log 2>&1 || status=$$?; \
	grep -E '^(== |\||---|ok|FAIL|PASS)|_test.go:' $$log || true; \
	if [ $$status -ne 0 ]; then echo "== hostile failed; its whole output:"; cat $$log; fi; \
	rm -f $$log; exit $$status

.PHONY: soak
soak: ## steady mixed load on the whole system for SOAK (30m), a route change a second; samples every process every 10s, fails on growth, lost changes or reports
	LARS_SOAK=$(SOAK) $(GO) test -count=1 -v -timeout $(SOAK_TIMEOUT) -run '^TestSoak$$' ./chaos/ 2>&1 | grep --line-buffered -E '^(== |\||---|ok|FAIL|PASS)|_test.go:'

bench: ## run the benchmarks (BENCH, BENCH_COUNT=10, BENCH_PKGS) into bench.txt
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count $(BENCH_COUNT) -timeout 60m $(BENCH_PKGS) | tee bench.txt

bench-save: bench ## run the benchmarks and keep the result as the baseline
	mkdir -p $(dir $(BASELINE))
	cp bench.txt $(BASELINE)
	@echo "baseline saved in $(BASELINE)"

bench-compare: bench ## run the benchmarks, compare with the baseline, fail on a significant regression
	@test -f $(BASELINE) || { echo "no baseline: run make bench-save first"; exit 1; }
	$(GO) run $(BENCHSTAT) $(BASELINE) bench.txt
	$(GO) run $(BENCHSTAT) -format csv $(BASELINE) bench.txt 2>/dev/null | $(GO) run ./tools/benchgate -threshold $(BENCH_THRESHOLD)

bench-ci: ## run every benchmark once, so none rots (no timing is judged)
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 20m $(PKGS)

# The capacity comparison: lars-loadgen's capacity search at p99<1ms against lars-agent
# and lars-echo, alternated CAPACITY_ROUNDS times in one run (about 15 s a sweep); fails
# when the median agent/echo capacity ratio is under CAPACITY_MIN_RATIO.
CAPACITY_ROUNDS    ?= 3
CAPACITY_MIN_RATIO ?= 0.85
.PHONY: bench-capacity
bench-capacity: ## capacity at p99<1ms of lars-agent vs lars-echo, alternated; fails when the ratio is under CAPACITY_MIN_RATIO (0.85)
	LARS_BENCH_CAPACITY=1 LARS_CAPACITY_ROUNDS=$(CAPACITY_ROUNDS) LARS_CAPACITY_MIN_RATIO=$(CAPACITY_MIN_RATIO) \
	  $(GO) test -count=1 -v -timeout 10m -run '^TestCapacityRatio$$' ./benchmarks/
