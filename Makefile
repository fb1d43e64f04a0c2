# CaseHub — `make run` serves the demo, `make test` runs the suite.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run serve test test-postgres lint format bench clean vendor

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "CaseHub needs Python 3.11 or newer on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

install: $(STAMP)

run: install
	$(BIN)/casehub db upgrade
	$(BIN)/casehub demo
	$(BIN)/casehub serve

serve: install
	$(BIN)/casehub serve

test: install
	$(BIN)/pytest -q

test-postgres: install
	CASEHUB_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test $(BIN)/pytest -q

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	CASEHUB_DATABASE_URL=sqlite:///$$(mktemp -d)/check.db sh -c '$(BIN)/alembic upgrade head >/dev/null 2>&1 && $(BIN)/alembic check'

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# The console's JS and CSS, vendored from the npm registry (no CDN at run time). Bump a version
# here, run `make vendor`, and commit hub/console/static/vendor/.
HTMX_VERSION := 2.0.11
PICO_VERSION := 2.1.1
ECHARTS_VERSION := 6.1.0
VENDOR := hub/console/static/vendor

vendor:
	rm -rf .vendor-tmp && mkdir -p .vendor-tmp $(VENDOR)
	cd .vendor-tmp && npm pack --silent htmx.org@$(HTMX_VERSION) @picocss/pico@$(PICO_VERSION) echarts@$(ECHARTS_VERSION) >/dev/null
	cd .vendor-tmp && for f in *.tgz; do mkdir -p "$${f%.tgz}" && tar xzf "$$f" -C "$${f%.tgz}"; done
	cp .vendor-tmp/htmx.org-$(HTMX_VERSION)/package/dist/htmx.min.js $(VENDOR)/
	cp .vendor-tmp/htmx.org-$(HTMX_VERSION)/package/LICENSE $(VENDOR)/htmx.LICENSE
	cp .vendor-tmp/picocss-pico-$(PICO_VERSION)/package/css/pico.min.css $(VENDOR)/
	cp .vendor-tmp/picocss-pico-$(PICO_VERSION)/package/LICENSE.md $(VENDOR)/pico.LICENSE.md
	cp .vendor-tmp/echarts-$(ECHARTS_VERSION)/package/dist/echarts.simple.min.js $(VENDOR)/
	cp .vendor-tmp/echarts-$(ECHARTS_VERSION)/package/LICENSE $(VENDOR)/echarts.LICENSE
	cp .vendor-tmp/echarts-$(ECHARTS_VERSION)/package/NOTICE $(VENDOR)/echarts.NOTICE
	rm -rf .vendor-tmp
