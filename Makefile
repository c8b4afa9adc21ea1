# Målbild — see README.md. The two commands of the quick start:
#   make demo   install what is missing, build, and run the demo
#   make test   run the whole test suite (what CI runs)
GO        ?= go
BIN       := bin/malbild
WEB       := dashboards/web
VENDOR    := dashboards/assets/vendor/echarts.min.js
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
FUZZTIME  ?= 4s

.PHONY: all demo test build assets deps deps-test vet fuzz bench clean

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

$(VENDOR): $(WEB)/node_modules/.package-lock.json
	mkdir -p $(dir $(VENDOR))
	cp $(WEB)/node_modules/echarts/dist/echarts.min.js $(VENDOR)

assets: $(VENDOR)

build: assets
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/malbild

demo: deps build
	$(BIN) demo

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

test: deps-test assets vet
	$(GO) test -count=1 -timeout 20m ./...
	$(MAKE) --no-print-directory fuzz

# Brief runs of every fuzz target (one target per go test invocation).
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
	rm -rf bin $(WEB)/node_modules dashboards/assets/vendor
