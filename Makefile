GO ?= go
BIN := bin/futures
# The binary says what it is from its build info (futures version): the
# module version, the VCS revision and time, Go and the platform. -buildvcs=true
# records the revision even where GOFLAGS says -buildvcs=false. At a release
# tag, the tag names the build.
TAG ?= $(shell git describe --tags --exact-match 2>/dev/null)
LDFLAGS := $(if $(TAG),-X github.com/futures-cli/futures/cmd.Version=$(TAG))

.PHONY: build test test-faults bench lint fuzz clean

build:
	$(GO) build -buildvcs=true -ldflags '$(LDFLAGS)' -o $(BIN) .

test: lint
	$(GO) test -race -count=1 -timeout 15m ./...

# The slow part of the fault-injection suite (faults_slow_test.go, build
# tag faults): tens of thousands of jobs, signals at random moments. Without
# -race, for speed; make test runs the rest of the suite under -race.
test-faults:
	$(GO) test -tags faults -count=1 -timeout 10m -run '^TestFaultScale' .

lint:
	@out=$$(gofmt -l . 2>&1); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	bash bench/run.sh

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzSplitLine -fuzztime 30s ./runner
	$(GO) test -run '^$$' -fuzz FuzzTemplate -fuzztime 30s ./runner
	$(GO) test -run '^$$' -fuzz FuzzDecodeFrame -fuzztime 30s ./pool
	$(GO) test -run '^$$' -fuzz FuzzFastJSONEncoding -fuzztime 30s ./pool
	$(GO) test -run '^$$' -fuzz FuzzFastJSONDecoding -fuzztime 30s ./pool
	$(GO) test -run '^$$' -fuzz FuzzCSVFields -fuzztime 30s ./runner
	$(GO) test -run '^$$' -fuzz FuzzParseLogins -fuzztime 30s ./runner

clean:
	rm -rf bin
