# The commands a user types. `make help` lists them.
GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME    ?= 10s
PKGS        := ./...

.PHONY: help build test test-race test-alloc lint proto proto-check fuzz bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## build every package and binary
	$(GO) build $(PKGS)

test: ## vet, every test under the race detector, then the zero-allocation tests
	$(GO) vet $(PKGS)
	$(MAKE) test-race test-alloc

test-race:
	$(GO) test -race -timeout 15m $(PKGS)

# The allocation tests carry //go:build !race (the race detector allocates), so they run
# in a second, race-free pass; each one's name contains "Alloc".
test-alloc:
	$(GO) test -count=1 -timeout 10m -run 'Alloc' $(PKGS)

lint: ## gofmt check, go vet, staticcheck (pinned)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)

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

bench: ## run every benchmark (count 10) into bench.txt
	$(GO) test -run '^$$' -bench . -benchmem -count 10 $(PKGS) | tee bench.txt
