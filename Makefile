# The verbs everyone uses. Each creates .venv on first use, so a fresh machine needs only Python.
# Every venv installs exactly requirements.lock (all packages, transitive ones too, at one version);
# setup.py keeps the compatible ranges for people who install synthbeam as a library.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
OUT ?= output
# The lock tool, itself pinned: `make lock` gives the same file on every machine on the same day.
UV_VERSION := 0.13.9
TOOLS := .venv-tools
LATEST := .venv-latest

.PHONY: demo test lint typecheck bench scale fast-test lock test-latest clean

$(STAMP): setup.py pyproject.toml $(LOCK) tests/plugin/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the locked dependencies into $(VENV) (about 45 s the first time)..."
	$(BIN)/python -m pip install --quiet --progress-bar off -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@# The example rule plugin (tests/plugin): a third-party package registering a rule by entry point.
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e tests/plugin
	$(BIN)/python -m pip check
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/synthbeam generate templates/retail.json --out $(OUT) --overwrite

test: $(STAMP)
	$(BIN)/ruff check .
	$(MAKE) typecheck
	$(BIN)/python -m pytest

# mypy over the three packages, named as installed (synthbeam.rules, ...): see [tool.mypy] in pyproject.toml.
typecheck: $(STAMP)
	@rm -rf .mypy-path && mkdir -p .mypy-path/synthbeam
	@# the synthbeam package itself is pipeline/api/ (setup.py's package_dir): link its files too
	@for file in pipeline/api/*.py pipeline/api/py.typed; do ln -sfn ../../$$file .mypy-path/synthbeam/; done
	@for package in rules transforms pipeline; do ln -sfn ../../$$package .mypy-path/synthbeam/$$package; done
	$(BIN)/mypy -p synthbeam.rules -p synthbeam.transforms -p synthbeam.pipeline

# The rules and Beam layers without end-to-end CLI runs or multi-process runners: seconds, not minutes.
fast-test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not e2e" -x -q

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# Job-graph bytes, launcher seconds and memory at 1e6, 1e9 and 1e10 planned rows (the 1e6 plan also runs).
scale: $(STAMP)
	$(BIN)/python -m benchmarks.scale $(SCALE_ARGS)

# Regenerate the locks from setup.py's ranges: the newest versions they allow today.
# requirements.lock: every supported Python (3.10-3.12), runtime + dev + build tools.
# requirements-gcp.lock: the Flex Template image's Python 3.11, runtime + the gcp extra.
lock:
	@test -x $(TOOLS)/bin/uv || ($(PYTHON) -m venv $(TOOLS) && $(TOOLS)/bin/python -m pip install --quiet uv==$(UV_VERSION))
	$(TOOLS)/bin/uv pip compile --quiet --universal --python-version 3.10 --extra dev \
	    setup.py requirements-build.in -o $(LOCK)
	$(TOOLS)/bin/uv pip compile --quiet --python-version 3.11 --python-platform x86_64-manylinux_2_28 --extra gcp \
	    setup.py -o requirements-gcp.lock
	@echo "Now: rm -f $(STAMP) && make test (and make bench) before committing the new lock."

# The drift check: a separate venv with the newest releases setup.py's ranges allow (not the lock),
# then lint and the whole suite there. Run it before raising a range or cutting a release, and
# whenever a dependency ships a release; not part of CI, which tests the lock.
test-latest:
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --progress-bar off --upgrade pip setuptools wheel
	$(LATEST)/bin/python -m pip install --quiet --progress-bar off --upgrade --upgrade-strategy eager -e '.[dev]'
	$(LATEST)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e tests/plugin
	$(LATEST)/bin/python -m tests.lockfile $(LOCK)
	$(LATEST)/bin/ruff check .
	SYNTHBEAM_UNLOCKED=1 $(LATEST)/bin/python -m pytest -p no:cacheprovider

clean:
	rm -rf $(VENV) $(TOOLS) $(LATEST) $(OUT) build *.egg-info
