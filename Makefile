# imustream — one command per job; `make help` lists them.
# bash: the test target keeps go test's exit status through tee (pipefail).
SHELL     := bash
GO        ?= go
BIN       := bin/imustream
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
DEMO_PORT ?= 17600
# Length of each of make bench's runs; the goals are judged on 60 s.
BENCH_DURATION ?= 20s
SMOKE_PORT ?= 17601
# Cross builds for the Pi: static, trimmed, version stamped like build.
XBUILD    := CGO_ENABLED=0 GOOS=linux $(GO) build -trimpath -ldflags '$(LDFLAGS)'
# nfpm runs from the module cache, outside go.mod; v2.46+ needs modules
# the Go module proxy does not serve.
NFPM      ?= $(GO) run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
# A Debian version starts with a digit: tag v1.2.3 gives 1.2.3, an untagged
# commit 0~git<commit time>.<commit>.
DEB_VERSION ?= $(shell git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null | sed 's/^v//' | grep . || echo 0~git$$(git log -1 --format=%cd --date=format:%Y%m%d%H%M%S 2>/dev/null).$(COMMIT))
# Packages carry the commit's time, not the build's: reproducible.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

.PHONY: help build test fuzz bench demo lint fmt clean build-arm6 build-arm7 build-arm64 build-amd64 test-arm smoke-arm64 qemu-user deb verify-unit

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/imustream for this machine
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/imustream

build-arm6: ## build bin/linux-armv6/imustream: Pi Zero/1, any 32-bit Pi OS (armhf)
	GOARCH=arm GOARM=6 $(XBUILD) -o bin/linux-armv6/imustream ./cmd/imustream

build-arm7: ## build bin/linux-armv7/imustream: Pi 2/3/4 with a 32-bit OS
	GOARCH=arm GOARM=7 $(XBUILD) -o bin/linux-armv7/imustream ./cmd/imustream

build-arm64: ## build bin/linux-arm64/imustream: Pi 3/4/5 with a 64-bit OS
	GOARCH=arm64 $(XBUILD) -o bin/linux-arm64/imustream ./cmd/imustream

build-amd64: ## build bin/linux-amd64/imustream (the amd64 package, for tests)
	GOARCH=amd64 $(XBUILD) -o bin/linux-amd64/imustream ./cmd/imustream

# -timeout 30m: the command tests start real daemons, browsers and NATS
# servers; on a busy 2-CPU machine they take longer than go test's 10 min.
test: ## vet, all tests with the race detector, every benchmark once; ends with a one-line summary
	@mkdir -p bin
	$(GO) vet ./...
	@set -o pipefail; $(GO) test -race -count=1 -timeout 30m ./... 2>&1 | tee bin/test.log
	@set -o pipefail; $(GO) test -run='^$$' -bench=. -benchtime=1x -benchmem ./... 2>&1 | tee bin/bench-once.log
	@echo "make test: $$(grep -c '^ok' bin/test.log) packages passed, $$(grep -c '^FAIL' bin/test.log) failed; $$(grep -c '^Benchmark' bin/bench-once.log) benchmarks ran once"

# Every Fuzz target of every package, one after the other; a crasher lands
# in the package's testdata/fuzz and fails the run. The budget is a count of
# executions, not a duration: Go 1.26's fuzz coordinator can fail a run with
# "context deadline exceeded" when a -fuzztime duration ends on a busy
# machine (golang/go#75804), a count has no deadline to race.
FUZZTIME ?= 100000x
fuzz: ## run every fuzz target for FUZZTIME executions (default 100000x) each
	@set -e; for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "--- $$f ($$pkg)"; \
			$(GO) test -run='^$$' -fuzz="^$$f\$$" -fuzztime=$(FUZZTIME) $$pkg; \
		done; \
	done

lint: ## gofmt and vet
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

fmt: ## format the code
	gofmt -w .

# The daemon runs in the background with the simulated sensor; the recorder
# streams 5 s from it over loopback and fails on any loss or a count more
# than 1 % off rate × time. --force: each demo replaces the last one's CSV.
demo: build ## run the daemon (simulated sensor) and record 5 s from it on loopback
	@set -e; \
	$(BIN) run --sim --listen 127.0.0.1:$(DEMO_PORT) 2> bin/demo-daemon.log & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null; echo "--- daemon log (bin/demo-daemon.log)"; cat bin/demo-daemon.log' EXIT; \
	$(BIN) record --device 127.0.0.1:$(DEMO_PORT) --duration 5s --out bin/demo.csv --force --strict --retries 10

# Nine runs (idle, loaded, one sender thread, flood, status commands,
# without RT priority, 1 kHz, 8 kHz), each next to a time.Ticker baseline,
# measured into bin/bench-suite.json, then written with the method and the
# goals by perfdoc, a developer tool: the template stays out of imustream.
bench: build bin/cloop ## measure the stream's timing and CPU vs a time.Ticker loop and a C loop; writes docs/performance.md
	$(BIN) bench --suite bin/bench-suite.json --duration $(BENCH_DURATION) --peer bin/cloop
	$(GO) run ./internal/bench/perfdoc -in bin/bench-suite.json -out docs/performance.md

# The minimal C streamer the bench measures the daemon against (--peer).
bin/cloop: internal/bench/cloop/cloop.c
	@mkdir -p bin
	$(CC) -O2 -Wall -pthread -o $@ $< -lm

# Each test binary runs under qemu-user on the oldest CPU of its builds:
# the Pi Zero/1's ARM1176 (ARMv6) and the Pi 3's Cortex-A53. The race
# detector does not exist on arm, so these run without it. One package at
# a time (-p 1): two emulated suites fighting for the CPUs would make the
# daemon's timing-sensitive tests measure the contention.
# The control PC's own packages (the NATS bridge, the live view and
# Foxglove, MCAP, the time sync's estimator) run where make test runs them.
ARM_PKGS = $$($(GO) list ./... | grep -v -E '/(bridge|view|foxglove|mcaprec|ros2|timesync|internal/natstest|internal/netemu)(/|$$)')

test-arm: qemu-user ## the tests and benchmarks of the Pi's packages once, as GOARM=6 and arm64 binaries under qemu
	CGO_ENABLED=0 GOARCH=arm GOARM=6 $(GO) vet ./...
	CGO_ENABLED=0 GOARCH=arm GOARM=6 QEMU_CPU=arm1176 $(GO) test -p 1 -count=1 -exec qemu-arm-static -bench=. -benchtime=1x $(ARM_PKGS)
	CGO_ENABLED=0 GOARCH=arm64 $(GO) vet ./...
	CGO_ENABLED=0 GOARCH=arm64 QEMU_CPU=cortex-a53 $(GO) test -p 1 -count=1 -exec qemu-aarch64-static -bench=. -benchtime=1x $(ARM_PKGS)

qemu-user: # qemu-arm-static and qemu-aarch64-static, from apt when root
	@command -v qemu-arm-static >/dev/null && command -v qemu-aarch64-static >/dev/null || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static; \
	else \
		echo "qemu-arm-static and qemu-aarch64-static are missing: sudo apt-get install qemu-user-static" >&2; exit 1; \
	fi

# The arm64 daemon, emulated, streams to this machine's recorder; like
# demo, any loss or a count more than 1 % off rate × time fails. A first
# 1 s stream, not checked, lets qemu translate the hot path: the first
# ticks of an emulated sender are tens of ms late, a real Pi's are not.
smoke-arm64: build build-arm64 qemu-user ## arm64 daemon under qemu streams 5 s to the native recorder on loopback
	@set -e; \
	QEMU_CPU=cortex-a53 qemu-aarch64-static bin/linux-arm64/imustream run --sim --listen 127.0.0.1:$(SMOKE_PORT) 2> bin/smoke-arm64-daemon.log & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null; echo "--- arm64 daemon log (bin/smoke-arm64-daemon.log)"; cat bin/smoke-arm64-daemon.log' EXIT; \
	qemu-aarch64-static bin/linux-arm64/imustream version; \
	$(BIN) record --device 127.0.0.1:$(SMOKE_PORT) --duration 1s --retries 10 >/dev/null; \
	$(BIN) record --device 127.0.0.1:$(SMOKE_PORT) --duration 5s --out bin/smoke-arm64.csv --force --strict --retries 10

# armhf carries the GOARM=6 binary: Raspberry Pi OS's armhf is ARMv6, so
# one package serves every 32-bit Pi.
deb: build-arm6 build-arm64 build-amd64 ## .deb packages for armhf, arm64 and amd64 in bin/ (nfpm)
	rm -f bin/imustream_*.deb
	@set -e; for p in armhf:linux-armv6 arm64:linux-arm64 amd64:linux-amd64; do \
		DEB_ARCH=$${p%%:*} BINARY=bin/$${p#*:}/imustream DEB_VERSION='$(DEB_VERSION)' SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) \
			$(NFPM) package --config deploy/pi/nfpm.yaml --packager deb --target bin/; \
	done

# verify needs ExecStart's binary to exist: check a copy of the unit that
# runs the one just built.
verify-unit: build ## systemd-analyze verify the unit and print its security exposure
	@set -e; d=$$(mktemp -d); trap 'rm -rf $$d' EXIT; \
	sed 's|/usr/bin/imustream|$(abspath $(BIN))|' deploy/pi/imustream.service > $$d/imustream.service; \
	systemd-analyze verify $$d/imustream.service; \
	echo "systemd-analyze verify: OK"; \
	systemd-analyze security --offline=yes $$d/imustream.service | tail -1

clean: ## remove build output
	rm -rf bin
