# signbind-hf developer loop. `make demo` and `make test` are all a newcomer needs; both build the venv first.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Installed first and on its own: on our machines pip finds a local CPU wheel of exactly this version, while an
# unpinned torch (or one pulled in by a dependency) resolves to a multi-GB CUDA build. Never torchvision/torchaudio.
# setuptools >= 77 (our build backend) sits in the venv too, for `pip wheel --no-build-isolation` in the tests.
TORCH_REQUIREMENT ?= torch==2.13.0
EXTRAS ?= video,app,dev
# The stamp makes a second `make venv` a no-op (seconds) until pyproject.toml changes.
STAMP := $(VENV)/.installed
PYTEST_ARGS ?= -q

.PHONY: venv test demo app bench lint format clean distclean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(TORCH_REQUIREMENT)" "setuptools>=77"
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

# pytest exits 5 when it collects no test: that is a failure here, never a silent pass.
test: venv
	@status=0; $(BIN)/python -m pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests (exit 5): failing" >&2; fi; \
	exit $$status

# The CPU quickstart: SynthSign -> experts -> fusion -> LLM refiner -> evaluation -> ablations (runs/quickstart).
demo: venv
	$(BIN)/signbind quickstart --out runs/quickstart

# The Gradio Space on http://127.0.0.1:7860, serving runs/quickstart/model when it exists.
app: venv
	$(BIN)/signbind app

bench: venv
	@set -e; found=0; for script in benchmarks/bench_*.py; do \
		[ -e "$$script" ] || continue; found=1; \
		echo "== $$script"; $(BIN)/python "$$script"; \
	done; \
	if [ $$found -eq 0 ]; then echo "make bench: no benchmarks/bench_*.py yet"; fi

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Build outputs, caches and demo runs; the venv stays (see distclean).
clean:
	rm -rf build dist runs .pytest_cache .ruff_cache *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
