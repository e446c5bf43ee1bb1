# signbind-hf developer loop. `make demo` and `make test` are all a newcomer needs; both build the venv first.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The exact tested set: every package of the venv (torch included) at one version, written by `make lock` from a fresh
# resolution of pyproject.toml's ranges. `make venv` installs precisely this; pyproject.toml keeps the ranges.
LOCK := requirements-lock.txt
# Installed first: on our machines pip finds a local CPU wheel of exactly this version, while an unpinned torch (or one
# pulled in by a dependency) resolves to a multi-GB CUDA build. Never torchvision/torchaudio.
TORCH_REQUIREMENT ?= torch==2.13.0
EXTRAS ?= video,app,dev,openvino
# The stamp makes a second `make venv` a no-op (seconds) until pyproject.toml or the lock changes.
STAMP := $(VENV)/.installed
PYTEST_ARGS ?= -q
# The fast subset that the newest and the oldest allowed releases must pass (tests marked `compat`).
COMPAT_ARGS ?= -q -m compat -p no:cacheprovider

.PHONY: venv lock test test-fast test-newest test-oldest wheel-check demo app bench lint format clean distclean

venv: $(STAMP)

# torch with its own dependencies resolved under the lock (on a GPU machine that brings its CUDA libraries), then every
# locked package as written (--no-deps: nothing is resolved again), then this package without touching any of them.
# --no-compile: pip would byte-compile every file of every package, mostly modules nothing here imports (a large share
# of the install's time, benchmarks/RESULTS.md); Python compiles and caches what is imported, on first import.
PIP_INSTALL := -m pip install --quiet --no-compile
$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python $(PIP_INSTALL) --constraint $(LOCK) "$(TORCH_REQUIREMENT)"
	$(BIN)/python $(PIP_INSTALL) --no-deps --requirement $(LOCK)
	$(BIN)/python $(PIP_INSTALL) --no-deps --no-build-isolation --editable ".[$(EXTRAS)]"
	$(BIN)/python -m pip check
	touch $(STAMP)

# Run after changing a requirement in pyproject.toml, and to move the tested set to newer releases (then `make test`
# and `make demo`, and commit the lock with what they measured). Resolves pyproject.toml's ranges to their newest
# releases in a throwaway venv and writes its `pip freeze` (torch's local build label dropped: `torch==2.13.0` is
# satisfied by the CPU build here and by PyPI's build elsewhere). To add a requirement and keep every other pin:
# `PIP_CONSTRAINT=$PWD/requirements-lock.txt make lock` (pip reads the old lock before it is replaced).
LOCK_VENV := build/lock-venv
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet "$(TORCH_REQUIREMENT)" "setuptools>=77"
	$(LOCK_VENV)/bin/python -m pip install --quiet ".[$(EXTRAS)]"
	{ echo "# The tested environment of signbind-hf (extras: $(EXTRAS)), written by \`make lock\` on Python" \
		"$$($(LOCK_VENV)/bin/python -c 'import platform; print(platform.python_version(), platform.machine())'):" \
		"do not edit by hand."; \
	  $(LOCK_VENV)/bin/python -m pip freeze --all --exclude signbind-hf | sed -E 's/^(torch==[^+]+)\+.*/\1/'; \
	} > $(LOCK).tmp
	mv $(LOCK).tmp $(LOCK)
	rm -rf $(LOCK_VENV)

# pytest exits 5 when it collects no test: that is a failure here, never a silent pass.
test: venv
	@status=0; $(BIN)/python -m pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests (exit 5): failing" >&2; fi; \
	exit $$status

# The developer loop: every test but the end-to-end ones marked `slow` (under 2 minutes on 2 cores); `make test` and CI
# run them all.
test-fast: venv
	@status=0; $(BIN)/python -m pytest $(PYTEST_ARGS) -m "not slow" || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test-fast: pytest collected no tests (exit 5): failing" >&2; fi; \
	exit $$status

# The compat tests (pytest -m compat) in a fresh venv of other releases than the lock's:
#   test-newest: the newest releases pyproject.toml's ranges allow, resolved now; CI's early warning of a release that
#                breaks us, before a user meets it.
#   test-oldest: every requirement at its lower bound (scripts/lower_bounds.py), so the bounds pyproject.toml states
#                are versions that ran.
# Each prints the versions it tested.
# torch stays at TORCH_REQUIREMENT in the newest leg too: its newest release is a CUDA build of several GB.
test-newest: COMPAT_PIP_OPTIONS = --upgrade --upgrade-strategy eager --constraint build/torch-constraint.txt
test-newest: build/torch-constraint.txt
test-oldest: COMPAT_PIP_OPTIONS = --constraint build/oldest-constraints.txt
test-oldest: build/oldest-constraints.txt
test-newest test-oldest: COMPAT_VENV = build/venv-$(@:test-%=%)
test-newest test-oldest:
	rm -rf $(COMPAT_VENV)
	$(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/python $(PIP_INSTALL) $(COMPAT_PIP_OPTIONS) "$(TORCH_REQUIREMENT)"
	$(COMPAT_VENV)/bin/python $(PIP_INSTALL) $(COMPAT_PIP_OPTIONS) --editable ".[$(EXTRAS)]"
	$(COMPAT_VENV)/bin/python -m pip check
	@echo "$@ runs on:"; $(COMPAT_VENV)/bin/python -m pip list --format=freeze \
		| grep -iE '^(torch|transformers|trl|peft|datasets|accelerate|evaluate|huggingface.hub|gradio|mediapipe|numpy)=='
	cd /tmp && $(CURDIR)/$(COMPAT_VENV)/bin/python -c "import signbind_hf"  # the editable install imports from anywhere
	$(COMPAT_VENV)/bin/python -m pytest $(COMPAT_ARGS)

build/torch-constraint.txt: Makefile
	mkdir -p build
	echo "$(TORCH_REQUIREMENT)" > $@

build/oldest-constraints.txt: pyproject.toml scripts/lower_bounds.py
	mkdir -p build
	$(PYTHON) scripts/lower_bounds.py > $@.tmp
	mv $@.tmp $@

# The built wheel, installed with the video and app extras at the locked versions into an empty venv, used from an
# empty folder (scripts/check_wheel.py): catches package data and imports that only work from the source tree.
WHEEL_DIR := build/wheel
WHEEL_VENV := build/venv-wheel
wheel-check: venv
	rm -rf $(WHEEL_DIR) $(WHEEL_VENV) build/lib build/bdist.*
	$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir $(WHEEL_DIR) .
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python $(PIP_INSTALL) --constraint $(LOCK) "$(TORCH_REQUIREMENT)"
	$(WHEEL_VENV)/bin/python $(PIP_INSTALL) --constraint $(LOCK) "$$(ls $(WHEEL_DIR)/signbind_hf-*.whl)[video,app]"
	$(WHEEL_VENV)/bin/python -m pip check
	work="$$(mktemp -d)" && cd "$$work" && $(CURDIR)/$(WHEEL_VENV)/bin/python $(CURDIR)/scripts/check_wheel.py \
		&& rm -rf "$$work"

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
