# pot: build, test, check, benchmark and demo. `make` builds the four tools into bin/.
GO      ?= go
PREFIX  ?= /usr/local
BINS    := potgen potcmp potstat potsplit
# Real models for the tests that use them; the tests skip with a message when absent.
POT_MODELS ?= $(abspath ../shared/models)
export POT_MODELS

.PHONY: build test check bench eval eval-quick eval-check demo install clean fuzz

build:
	@mkdir -p bin
	$(GO) build -o bin/ $(addprefix ./cmd/,$(BINS))

# The whole suite, a short fuzzing run of the stream reader, and the
# evaluation's small version (verdicts and tables, not timings).
test: build
	$(GO) test -timeout 15m ./...
	$(GO) test -run '^$$' -fuzz '^FuzzReader$$' -fuzztime 15s -fuzzminimizetime 5s ./format
	$(MAKE) --no-print-directory eval-quick

check: build
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) test -race -timeout 20m ./...

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzReader$$' -fuzztime 2m -fuzzminimizetime 5s ./format

# Benchmarks report figures; they assert nothing. The C baseline does the
# engine's arithmetic in plain C -O3, for BenchmarkForwardFromBOS to compare;
# whole.sh times both whole processes on 512 steps.
# memory.sh measures peak memory on a 10-million-record stream (MEMORY_N).
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 2s ./format ./internal/llama ./internal/model/openai ./internal/score ./internal/seqtest ./cmd/potgen ./cmd/potcmp
	cc -O3 -o bin/cbaseline scripts/cbaseline/forward.c -lm && bin/cbaseline $(POT_MODELS)/stories260K.bin 256
	./scripts/cbaseline/whole.sh 7
	./scripts/memory.sh

# pot's results table: every model pair, locally and through HTTP, over fresh
# keys; writes eval/EVAL.md, its pictures, eval/results.json and the README's
# summary table.
eval: build
	$(GO) build -o bin/ ./scripts/potserve
	$(GO) run ./scripts/eval

# The same on a few pairs in under 2 minutes, into a temporary folder: it
# fails on a wrong verdict or a malformed table, never on a timing.
eval-quick: build
	$(GO) build -o bin/ ./scripts/potserve
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  $(GO) run ./scripts/eval -quick -out "$$tmp/out" -doc "$$tmp/EVAL.md" -readme "" > "$$tmp/summary" && \
	  echo "eval-quick: verdicts and tables as expected"

# Two runs compared pair by pair (make eval-check OLD=old.json [NEW=...]): the
# same verdicts, and each wrong-verdict rate inside the other's interval.
eval-check:
	$(GO) run ./scripts/eval -check $(OLD) $(or $(NEW),eval/results.json)

# The main job on built-in synthetic models: nothing to download.
demo: build
	./scripts/demo.sh

install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(addprefix bin/,$(BINS)) $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf bin
