# The two commands of the README: `make demo` and `make test`.
.PHONY: demo test bootstrap lint bench

bootstrap:
	@bash scripts/bootstrap.sh

demo: bootstrap
	.venv/bin/dotloop-reporter demo

test: bootstrap
	@bash scripts/test.sh

bench: bootstrap
	@bash scripts/bench.sh
