# jwt-guard: the commands users and CI run. Each target installs what it needs itself.
SHELL := /bin/bash
WASM := target/wasm32-wasip1/release/jwt_guard.wasm
PY := .venv/bin/python

.PHONY: all build wycheproof-module bootstrap lint unit integration test compose-test demo bench bench-dpop bench-instructions soak fuzz fuzz-long clean dist deploy-test docs cli check-configs

all: build

bootstrap:
	scripts/bootstrap.sh

build: bootstrap
	cargo build --release --target wasm32-wasip1
	@ls -l $(WASM)

## The command-line twin of the filter (check, explain, jwks): target/release/jwt-guard.
cli: bootstrap
	cargo build --release --locked -p jwt-guard-cli
	@ls -l target/release/jwt-guard

lint: bootstrap
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy --release --target wasm32-wasip1 -- -D warnings
	cargo clippy --release --target wasm32-wasip1 --features wycheproof -- -D warnings

unit: bootstrap
	cargo test --workspace

## Test only, never in dist/: the module that runs Project Wycheproof's vectors through Envoy's
## verify_signature at start-up (tests/integration/test_wycheproof_envoy.py).
wycheproof-module: bootstrap
	cargo build --profile wycheproof --target wasm32-wasip1 --features wycheproof

## tests/browser needs Debian's chromium and the SPA's npm packages, tests/docs mdbook
## (installed here).
integration: build wycheproof-module
	scripts/bootstrap.sh --with-browser --with-docs
	$(PY) -m pytest tests -q -p no:cacheprovider --ignore=tests/compose --ignore=tests/deploy

## Every shipped configuration (envoy.yaml, deploy/, dist/deploy/) passes `jwt-guard check --strict`.
check-configs: bootstrap
	cargo build --locked -p jwt-guard-cli
	scripts/check_configs.sh target/debug/jwt-guard

## The README's test command: formatting, lints, native unit tests, shipped configurations, then
## real Envoy (and the docs test: links, the reference tables, mdbook build).
test: lint unit check-configs integration

## docker-compose.yml run for real (rootful Podman + podman-compose, no Docker daemon): the
## images copy host-built static musl dev tools; see tests/compose. Installs what it needs.
compose-test: build
	scripts/bootstrap.sh --with-podman --with-browser
	cargo build --release --target x86_64-unknown-linux-musl -p jwt-guard-devtools
	$(PY) -m pytest tests/compose -q -p no:cacheprovider

## Starts the dev IdP, the echo API and Envoy with jwt-guard; Ctrl-C stops them.
demo:
	scripts/demo.sh

## Envoy instructions per request under callgrind (bench/instructions.md): refusals against native
## jwt_authn, the floors and the feature cost table, comparable on a machine too noisy for requests/s.
bench-instructions: build
	scripts/bootstrap.sh --with-wrk
	command -v valgrind >/dev/null || apt-get install -y valgrind
	cargo build --release --target wasm32-wasip1 --manifest-path bench/empty/Cargo.toml --target-dir target
	$(PY) -m bench.instructions

## DPoP's per-request cost next to a bearer token (one and two workers, wrk).
bench-dpop: build
	scripts/bootstrap.sh --with-wrk
	$(PY) -m bench.dpop_cost

bench:
	scripts/bootstrap.sh --with-wrk
	bench/run.sh

## The soak (not in CI, not in make test): SOAK_S seconds (default 1800) of load on Envoy with two
## workers while configurations are pushed, keys rotate and the JWKS endpoint fails (tests/soak).
soak: build
	SOAK_S=$(SOAK_S) SOAK_RPS=$(SOAK_RPS) $(PY) -m tests.soak

## A short run of every fuzz target, seeded from the committed corpora (FUZZ_SECONDS each, default 60).
fuzz:
	fuzz/run.sh

## A campaign: every target for FUZZ_SECONDS (default 600), its finds merged into the committed,
## minimised fuzz/corpus/<target>/, one row per target appended to fuzz/results.md.
fuzz-long:
	FUZZ_SECONDS=$${FUZZ_SECONDS:-600} FUZZ_MINIMISE=1 FUZZ_RESULTS=results.md fuzz/run.sh

## The book (docs/src, mdBook) as HTML in docs/book/.
docs:
	scripts/bootstrap.sh --with-docs
	.venv/bin/mdbook build docs

## Release artifacts in dist/: the module, its sha256, the OCI image archive and its digest,
## the rendered manifests, and the static command-line binary and its sha256.
dist: bootstrap
	scripts/bootstrap.sh --with-musl
	scripts/dist.sh

## Delivery paths: the artifacts, remote code source, registry round trip, manifests, alert rules.
deploy-test: dist
	scripts/bootstrap.sh --with-oci
	$(PY) -m pytest tests/deploy -q -p no:cacheprovider

clean:
	cargo clean
	rm -rf .venv .run dist
