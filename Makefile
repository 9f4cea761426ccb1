# cellagent: the two set-up commands are `make demo` and `make test`.
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: all test lint fmt doc bench demo clean

all: test

## Every test in the workspace (unit, property, pty and broker integration tests).
test:
	$(CARGO) test --workspace --all-targets --all-features
	$(CARGO) test --workspace --doc --all-features

## clippy with warnings as errors, and rustfmt's check.
lint:
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings
	$(CARGO) fmt --all --check

fmt:
	$(CARGO) fmt --all

doc:
	$(CARGO) doc --workspace --no-deps

## Benchmarks; each prints its figures. The pipeline bench drives the release `cellagent`
## built without the `demo` feature (copied aside, since the bench build has the feature) and
## rewrites docs/benchmarks.md.
bench:
	$(CARGO) bench -p quectel-mqtt --bench decoder
	$(CARGO) build --release -p agent --bin cellagent
	mkdir -p target/bench && cp target/release/cellagent target/bench/cellagent
	$(CARGO) bench -p agent --features demo --bench pipeline -- --agent-bin $(CURDIR)/target/bench/cellagent

## The whole chain with no hardware: emulated module + emulated cloud.
demo:
	@if $(CARGO) metadata --format-version 1 --no-deps 2>/dev/null | grep -q '"name":"cellagent"'; then \
		$(CARGO) run --release -p agent --features demo --bin cellagent -- demo; \
	else \
		echo "make demo: the cellagent binary is not built yet (issue 8 is open); nothing to run." >&2; \
		exit 1; \
	fi

clean:
	$(CARGO) clean

## Fuzzing (issue 10; docs/fuzzing.md). Needs cargo-fuzz 0.13.2 (`cargo install cargo-fuzz
## --version 0.13.2 --locked`); stable Rust works with `--sanitizer none`. New inputs go to
## fuzz/target/corpus/<target> (not committed); fuzz/corpus/<target> is the kept seed corpus.
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 15
FUZZ_TARGETS ?= at_decoder qmtrecv session app_line aliyun_downlink onenet_downlink huawei_downlink profile
FUZZ_FLAGS ?= -timeout=60 -rss_limit_mb=2048 -print_final_stats=1
# `cargo fuzz run` for target $$t (shell variable), from fuzz/, and its dictionary.
FUZZ_RUN = $(CARGO) fuzz run --sanitizer none $$t
FUZZ_DICT = $$(case $$t in at_decoder|qmtrecv|session) echo -dict=dict/at.dict;; profile) ;; *) echo -dict=dict/json.dict;; esac)

.PHONY: fuzz fuzz-smoke

## Long runs: each target for FUZZ_SECONDS (default 300) seconds; new inputs kept in fuzz/target/corpus.
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== fuzz $$t ($(FUZZ_SECONDS) s)"; \
		mkdir -p fuzz/target/corpus/$$t; \
		(cd fuzz && $(FUZZ_RUN) target/corpus/$$t corpus/$$t -- $(FUZZ_DICT) $(FUZZ_FLAGS) \
			-max_total_time=$(FUZZ_SECONDS)); \
	done

## CI: each target FUZZ_SMOKE_SECONDS (default 15) seconds over the kept corpus; prints the
## libFuzzer log's tail on failure.
fuzz-smoke:
	@set -e; for t in $(FUZZ_TARGETS); do \
		rm -rf fuzz/target/smoke/$$t; mkdir -p fuzz/target/smoke/$$t; \
		log=fuzz/target/smoke/$$t.log; \
		if (cd fuzz && $(FUZZ_RUN) target/smoke/$$t corpus/$$t -- $(FUZZ_DICT) $(FUZZ_FLAGS) \
			-max_total_time=$(FUZZ_SMOKE_SECONDS)) >$$log 2>&1; then \
			echo "fuzz-smoke $$t: $$(grep -E '^Done [0-9]+ runs' $$log | tail -1)"; \
		else \
			tail -n 80 $$log; echo "fuzz-smoke $$t: FAILED (log: $$log)"; exit 1; \
		fi; \
	done

## Soak with faults (issue 10; docs/soak.md): 10,000 records, 1,000 module faults, broker
## restarts and agent SIGKILLs through the emulated chain with mosquitto; release build.
## Bounded: the test fails with a message after SOAK_TIME_LIMIT_S (default 2700 s).
SOAK_RECORDS ?= 10000
SOAK_FAULTS ?= 1000
SOAK_BROKER_RESTARTS ?= 5
SOAK_AGENT_KILLS ?= 5
SOAK_SEED ?= 1
SOAK_TIME_LIMIT_S ?= 2700

.PHONY: soak

soak:
	SOAK_RECORDS=$(SOAK_RECORDS) SOAK_FAULTS=$(SOAK_FAULTS) SOAK_BROKER_RESTARTS=$(SOAK_BROKER_RESTARTS) \
	SOAK_AGENT_KILLS=$(SOAK_AGENT_KILLS) SOAK_SEED=$(SOAK_SEED) SOAK_TIME_LIMIT_S=$(SOAK_TIME_LIMIT_S) \
		$(CARGO) test --release -p agent --all-features --test soak -- --nocapture
