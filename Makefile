GO ?= go
BIN := bin/futures
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/futures-cli/futures/cmd.Version=$(VERSION)

.PHONY: build test test-faults bench lint fuzz clean

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) .

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
	$(GO) test -run '^$$' -fuzz FuzzJSONString -fuzztime 30s ./runner
	$(GO) test -run '^$$' -fuzz FuzzParseLogins -fuzztime 30s ./runner

clean:
	rm -rf bin
