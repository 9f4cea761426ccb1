# cellagent: the two set-up commands are `make demo` and `make test`.
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: all test lint fmt doc bench demo clean

all: test

## Every test in the workspace (unit, property, pty and broker integration tests).
test:
	$(CARGO) test --workspace --all-targets
	$(CARGO) test --workspace --doc

## clippy with warnings as errors, and rustfmt's check.
lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) fmt --all --check

fmt:
	$(CARGO) fmt --all

doc:
	$(CARGO) doc --workspace --no-deps

## Benchmarks; each prints its figures.
bench:
	$(CARGO) bench -p quectel-mqtt --bench decoder

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
