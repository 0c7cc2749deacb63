# relmkt: the two commands are `make report` and `make test`. Each bootstraps .venv first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.relmkt-installed
MONTH  ?=
FUZZ_SECONDS ?= 120
OUT    ?= reports
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help setup browser java report report-cdnow test test-fast fuzz lab kernel benchmarks lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "relmkt needs Python 3.11 or newer (found " + sys.version.split()[0] + "); run: make PYTHON=python3.11 ...")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test]'
	@touch $(STAMP)

setup: $(STAMP)  ## create .venv and install the kit with pinned dependencies

report: $(STAMP)  ## monthly report on the bundled sample shop (MONTH=YYYY-MM to choose the month)
	$(VENV)/bin/relmkt report --data sample --out $(OUT) $(if $(MONTH),--month $(MONTH),)

report-cdnow: $(STAMP)  ## monthly report on the bundled CDNOW log (no spend ledger)
	$(VENV)/bin/relmkt report --data cdnow --out $(OUT) $(if $(MONTH),--month $(MONTH),)

# The browser test drives Debian's chromium through playwright (no browser download). As root
# (CI, a fresh machine) it is installed here; otherwise the test is skipped with a reason.
browser:  ## install Debian's chromium for the browser test if it is missing (needs root)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser test (once)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "chromium is missing and this is not root: tests/test_browser.py will be skipped"; \
	  fi; }

# pytest exits 5 when it collects no tests: for us that is a broken suite, not a pass.
# Timeouts (issue 11): 300 s a notebook cell and 120 s a kernel start under nbval, as in
# tests/conftest.py for papermill; pytest-timeout (pyproject.toml) caps every test at 600 s.
# Spark (issue 14) runs on a JVM: Java 17 (or 21) is installed here when no java is found (as root).
java:  ## install a Java runtime for the Spark tests if none is found (needs root)
	@{ [ -n "$$JAVA_HOME" ] && [ -x "$$JAVA_HOME/bin/java" ]; } || command -v java >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing a Java runtime for the Spark tests (once)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null \
	      || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; \
	  else \
	    echo "java is missing and this is not root: install Java 17 (e.g. apt-get install openjdk-17-jre-headless)"; \
	    echo "or run the suite without Spark: make test PYTEST_ARGS='-m \"not spark\"'"; exit 1; \
	  fi; }

test: $(STAMP) browser java  ## the whole suite: unit tests, doctests, browser test and nbval over notebooks/
	@$(PY) -m pytest --doctest-modules relmkt_helpers tests \
		--nbval-lax notebooks --nbval-sanitize-with tests/nbval_sanitize.cfg \
		--nbval-cell-timeout=300 --nbval-kernel-startup-timeout=120 $(PYTEST_ARGS); \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing on purpose"; exit 1; fi; exit $$rc

test-fast: $(STAMP)  ## unit tests only (no notebooks, no report runs, no Spark)
	$(PY) -m pytest tests -m "not slow and not spark"

# Not part of `make test`: installs atheris into .venv on first use; findings land in fuzz/findings/.
fuzz: $(STAMP)  ## fuzz the transaction loader with atheris for FUZZ_SECONDS (default 120)
	@$(PY) -c 'import atheris' 2>/dev/null || $(PY) -m pip install --quiet --disable-pip-version-check atheris==3.0.0
	@mkdir -p fuzz/findings fuzz/work
	$(PY) fuzz/fuzz_load.py fuzz/work fuzz/corpus -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=fuzz/findings/ -rss_limit_mb=3072 -print_final_stats=1

lab: $(STAMP)  ## open JupyterLab on notebooks/ with the kit's environment
	$(VENV)/bin/jupyter lab notebooks

kernel: $(STAMP)  ## register a 'relmkt' kernel for a JupyterLab installed elsewhere
	$(PY) -m ipykernel install --user --name relmkt --display-name "Python (relmkt)"

benchmarks: $(STAMP)  ## run the speed/memory benchmarks (minutes; writes benchmarks/results/)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lock:  ## refresh requirements.lock from the current .venv (after changing pins in pyproject.toml)
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e ' > requirements.lock

clean:  ## remove generated reports (keeps .venv)
	find $(OUT) -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
