GO ?= go
BIN := bin/futures
# The binary says what it is from its build info (futures version): the
# module version, the VCS revision and time, Go and the platform. -buildvcs=true
# records the revision even where GOFLAGS says -buildvcs=false. At a release
# tag, the tag names the build.
TAG ?= $(shell git describe --tags --exact-match 2>/dev/null)
LDFLAGS := $(if $(TAG),-X github.com/futures-cli/futures/pool/internal/wire.Release=$(TAG))

# Generated files (make man, make completions): gitignored.
BUILD := build

# make install copies bin/futures (built first if it is missing) to
# $(PREFIX)/bin, its man pages to $(PREFIX)/share/man/man1, and its bash,
# zsh and fish completion scripts under $(PREFIX)/share; DESTDIR is
# prepended to every path, for packagers.
PREFIX ?= /usr/local
DESTDIR ?=
BASH_COMPLETIONS := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSH_COMPLETIONS := $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISH_COMPLETIONS := $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
MAN1 := $(DESTDIR)$(PREFIX)/share/man/man1

.PHONY: build man completions install uninstall release-snapshot test test-faults bench lint fuzz clean

# CGO_ENABLED=0, as the release archives are built: a static binary starts
# faster (no dynamic loader: about 2 ms a call, which a shell loop of
# submit --detach pays each time), and nothing in futures needs cgo.
build:
	CGO_ENABLED=0 $(GO) build -buildvcs=true -ldflags '$(LDFLAGS)' -o $(BIN) .

$(BIN):
	$(MAKE) build

# make man writes a man page per command (futures.1, futures-map.1 …) into
# build/man, from the command tree, by futures-man (internal/mangen: not a
# command of futures, whose every start would pay for its libraries),
# built with the same flags as the binary so the pages name its version.
MANGEN := $(GO) run -buildvcs=true -ldflags '$(LDFLAGS)' ./internal/mangen/futures-man
man:
	rm -rf $(BUILD)/man
	$(MANGEN) $(BUILD)/man

# make completions writes the completion scripts into build/completions,
# as the release archives ship them.
completions: build
	mkdir -p $(BUILD)/completions
	$(BIN) completion bash > $(BUILD)/completions/futures.bash
	$(BIN) completion zsh > $(BUILD)/completions/_futures
	$(BIN) completion fish > $(BUILD)/completions/futures.fish

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(MAN1) $(BASH_COMPLETIONS) $(ZSH_COMPLETIONS) $(FISH_COMPLETIONS)
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/futures
	$(MANGEN) $(MAN1)
	$(BIN) completion bash > $(BASH_COMPLETIONS)/futures
	$(BIN) completion zsh > $(ZSH_COMPLETIONS)/_futures
	$(BIN) completion fish > $(FISH_COMPLETIONS)/futures.fish

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/futures $(BASH_COMPLETIONS)/futures $(ZSH_COMPLETIONS)/_futures $(FISH_COMPLETIONS)/futures.fish
	rm -f $(MAN1)/futures.1 $(MAN1)/futures-*.1

# make release-snapshot builds the release archives (.goreleaser.yaml:
# linux, darwin and freebsd; man pages and completions inside) and their
# SHA-256 checksums into dist/, publishing nothing. GoReleaser comes from the
# Go module proxy, pinned (v2.17.0 builds with Go 1.26), installed into
# .cache/bin once: its first build takes minutes of CPU.
GORELEASER_VERSION := v2.17.0
GORELEASER := .cache/bin/goreleaser

$(GORELEASER):
	GOBIN=$(CURDIR)/.cache/bin $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)

# GORELEASER_FLAGS adds to its command line (--config FILE, say).
GORELEASER_FLAGS ?=

release-snapshot: $(GORELEASER)
	$(GORELEASER) release --snapshot --clean $(GORELEASER_FLAGS)

test: lint
	$(GO) test -race -count=1 -timeout 15m ./...

# The slow part of the fault-injection suite (faults_slow_test.go, build
# tag faults): tens of thousands of jobs, signals at random moments. Without
# -race, for speed; make test runs the rest of the suite under -race.
test-faults:
	$(GO) test -tags faults -count=1 -timeout 10m -run '^TestFaultScale' .

# The other systems futures is built for (README, Platforms): make cross
# builds and vets (test files included) for each. make test-portable runs
# the tests of the packages with platform code once more on Linux with the
# portable fallbacks that macOS and FreeBSD take (FUTURES_FORCE_PORTABLE=1:
# no Pdeathsig but the worker's parent watchdog, wait4 in place of waitid
# and pidfd, a copy in place of splice, stdin read through select), the
# CLI scripts but those that start sshd and Slurm (daemons.txtar: the
# remote side is the same futures worker), and the fault tests of signals
# and of a runner killed (about 1.5 minutes on 2 CPUs, the build cache warm).
CROSS := darwin/amd64 darwin/arm64 freebsd/amd64 linux/arm64
.PHONY: cross test-portable

cross:
	@set -e; for t in $(CROSS); do \
		echo "GOOS=$${t%/*} GOARCH=$${t#*/} go build ./... && go vet ./..."; \
		GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) build ./...; \
		GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) vet ./...; \
		GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) vet -tags faults .; \
	done

test-portable: cross
	FUTURES_FORCE_PORTABLE=1 $(GO) test -race -count=1 -timeout 10m ./internal/... ./pool/... ./runner/...
	FUTURES_FORCE_PORTABLE=1 $(GO) test -race -count=1 -timeout 10m -skip '^TestScripts/daemons$$' \
		-run '^(TestScripts|TestFaultRunnerKilledTakesItsJobsAlong|TestFaultInterruptWhileInputIsStillOpen|TestFaultGrandchildrenDieWithTheirJob|TestFaultSignalMidRunStopsEveryJobAndKeepsTheRecords)$$' .

# staticcheck, pinned: release 2026.2.2 is module version v0.8.2, fetched
# from the Go module proxy by go run (cached after the first run).
# make lint runs it; LINT_STATICCHECK=0 skips it (offline, say).
STATICCHECK := $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
LINT_STATICCHECK ?= 1

lint:
	@out=$$(gofmt -l . 2>&1); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
ifeq ($(LINT_STATICCHECK),1)
	$(STATICCHECK) ./...
endif

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	bash bench/run.sh

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzSplitLine -fuzztime 30s ./runner/shell
	$(GO) test -run '^$$' -fuzz FuzzTemplate -fuzztime 30s ./runner/template
	$(GO) test -run '^$$' -fuzz FuzzDecodeFrame -fuzztime 30s ./pool/internal/wire
	$(GO) test -run '^$$' -fuzz FuzzFastJSONEncoding -fuzztime 30s ./pool/internal/wire
	$(GO) test -run '^$$' -fuzz FuzzFastJSONDecoding -fuzztime 30s ./pool/internal/wire
	$(GO) test -run '^$$' -fuzz FuzzCSVFields -fuzztime 30s ./runner/input
	$(GO) test -run '^$$' -fuzz FuzzJSONString -fuzztime 30s ./runner/record
	$(GO) test -run '^$$' -fuzz FuzzParseLogins -fuzztime 30s ./runner

clean:
	rm -rf bin $(BUILD) dist
