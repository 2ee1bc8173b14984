# etlhost: build, test, demo, bench. `make test` is what CI runs (.ci/run).
GO      ?= go
BIN     := bin/etlhost
PKGS    := ./...

.PHONY: build test demo bench vet fmt clean

build:
	$(GO) build -o $(BIN) ./cmd/etlhost

vet:
	$(GO) vet $(PKGS)

# The whole suite, race detector on: PostgreSQL-backed tests start their own
# throwaway server (or use ETLHOST_TEST_PG_DSN); Odoo tests use the simulator.
test: vet
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

# The three ETL jobs on the bundled demo: the Odoo simulator and a throwaway
# PostgreSQL, both started and stopped by etlhost itself.
demo: build
	./$(BIN) demo

# Micro-benchmarks beside the code (the queue's jobs per second among them), then the whole-run figures: the demo's,
# then etlhost against the Python baseline (../shared/baseline; etlhost alone
# without it) on one simulator and one PostgreSQL, at 20000 and 200000 moves.
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 2s ./host/
	$(GO) test -run '^$$' -bench . -benchtime 3x ./luabind/pg/ ./luabind/odoo/
	$(GO) test -run '^$$' -bench Throughput -benchtime 100x ./queue/
	./$(BIN) demo --bench
	./$(BIN) bench
	./$(BIN) bench --moves 200000 --rounds 3

fmt:
	gofmt -l -w .

clean:
	rm -rf bin
