# Målbild — see README.md. The two commands of the quick start:
#   make demo   install what is missing, build, and run the demo
#   make test   run the whole test suite (what CI runs)
GO        ?= go
BIN       := bin/malbild
WEB       := dashboards/web
VENDOR    := dashboards/assets/vendor/echarts.min.js
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
FUZZTIME  ?= 30s

CHDB      := internal/chdbtest/testdata

.PHONY: all demo test build assets chdb deps deps-test vet fuzz bench clean

all: build

deps:
	@scripts/install-deps.sh demo

deps-test:
	@scripts/install-deps.sh test

# JavaScript comes from the npm registry at build time, pinned by the lock
# file; nothing of it is committed.
$(WEB)/node_modules/.package-lock.json: $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The ECharts bundle: esbuild builds it from echarts-entry.js with only the
# charts and components the pages use (and writes its .br and .gz forms).
$(VENDOR): $(WEB)/node_modules/.package-lock.json $(WEB)/build-assets.js $(WEB)/echarts-entry.js
	cd $(WEB) && node build-assets.js

assets: $(VENDOR)

# A current ClickHouse release as a library (chDB, from the npm registry,
# pinned by its lock file) on which the clickhouse package's tests replay
# every statement the store sends. Test-only; nothing of it is committed.
$(CHDB)/node_modules/.package-lock.json: $(CHDB)/package-lock.json
	cd $(CHDB) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

chdb: $(CHDB)/node_modules/.package-lock.json

build: assets
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/malbild

demo: deps build
	$(BIN) demo

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# The gate is deterministic: go test runs every fuzz target's committed seed
# corpus (testdata/fuzz/...) as ordinary tests, and nothing random.
test: deps-test assets chdb vet
	$(GO) test -race -count=1 -timeout 30m ./...

# Exploratory fuzzing, for developers and never part of the gate: each
# target runs FUZZTIME. A crasher it finds lands in the package's
# testdata/fuzz/FuzzX/ directory; commit it as a seed together with the fix.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg >/tmp/malbild-fuzz.log 2>&1 || { cat /tmp/malbild-fuzz.log; exit 1; }; \
	  done; \
	done

bench: build
	@scripts/install-deps.sh bench
	$(GO) run ./bench

clean:
	rm -rf bin $(WEB)/node_modules dashboards/assets/vendor $(CHDB)/node_modules bench/lighthouse/node_modules
