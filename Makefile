# imustream — one command per job; `make help` lists them.
GO        ?= go
BIN       := bin/imustream
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
DEMO_PORT ?= 17600

.PHONY: help build test bench demo lint fmt clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/imustream for this machine
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/imustream

test: ## vet, all tests with the race detector, every benchmark once
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	$(GO) test -run='^$$' -bench=. -benchtime=1x -benchmem ./...

lint: ## gofmt and vet
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

fmt: ## format the code
	gofmt -w .

# The daemon runs in the background with the simulated sensor; the recorder
# streams 5 s from it over loopback and fails on any loss or a count more
# than 1 % off rate × time.
demo: build ## run the daemon (simulated sensor) and record 5 s from it on loopback
	@set -e; \
	$(BIN) run --sim --listen 127.0.0.1:$(DEMO_PORT) 2> bin/demo-daemon.log & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null; echo "--- daemon log (bin/demo-daemon.log)"; cat bin/demo-daemon.log' EXIT; \
	$(BIN) record --device 127.0.0.1:$(DEMO_PORT) --duration 5s --out bin/demo.csv --strict --retries 10

clean: ## remove build output
	rm -rf bin
