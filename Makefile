# Dossier — the project's verbs.  `make run` and `make test` work on a fresh Debian machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
export DOSSIER_HOME ?= $(CURDIR)/data

# Debian packages the product needs at run time, and the extra ones the tests drive (postgresql: the
# records tests start a throwaway cluster from its binaries when DOSSIER_TEST_POSTGRES_URL is unset).
RUN_DEBS := python3-venv libmagic1 redis-server tesseract-ocr tesseract-ocr-chi-sim poppler-utils fonts-wqy-microhei \
  libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui
TEST_DEBS := chromium chromium-driver postgresql

.PHONY: help setup run demo redis-down test lint messages typecheck pytest bench clean system-deps test-system-deps opensearch opensearch-stop docs screenshots

help:
	@echo "make run     install everything needed and start Dossier on http://127.0.0.1:8000"
	@echo "make demo    load the sample data (customer registry, then the files) into the data home"
	@echo "make test    install everything needed and run lint, type checks and the whole test suite"
	@echo "make bench   run the benchmarks under bench/"
	@echo "make docs    build the manual (docs/ -> build/site, served by dossier serve at /docs), screenshots first"
	@echo "make messages  extract message ids into the catalogs (foundation/locale) and list what is missing"
	@echo "make opensearch  start a local OpenSearch test node (then export the DOSSIER_OPENSEARCH_URL it prints)"
	@echo "make clean   remove the virtualenv (your data in $(DOSSIER_HOME) is kept)"

# Installs only the packages that are missing; with sudo when not root.
define apt_install
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "==> 安装系统软件包 / installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

system-deps:
	$(call apt_install,$(RUN_DEBS))

test-system-deps: system-deps
	$(call apt_install,$(TEST_DEBS))

$(BIN)/.installed: requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps --config-settings editable_mode=compat -e .
	@touch $@

# The test, lint and type-check tools (requirements-dev.txt), on top of what the app needs.
$(BIN)/.dev-installed: requirements-dev.txt $(BIN)/.installed
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	@touch $@

setup: system-deps $(BIN)/.installed

# `dossier init` says what became of the admin account and the next steps; `serve --local-redis`
# starts a local Redis when none answers and stops it again on Ctrl+C (one that ran before is left alone).
run: setup
	@$(BIN)/dossier init
	$(BIN)/dossier serve --local-redis

# The sample data beside the repository (../shared/corpus, or DOSSIER_CORPUS): the customer registry, then the files.
demo: setup
	@$(BIN)/dossier init --quiet
	$(BIN)/dossier demo

# Stops the local Redis that Dossier started for this data home (if `make run` was killed before it could).
redis-down:
	$(BIN)/dossier redis-down

lint: $(BIN)/.dev-installed typecheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Extract the message ids the code uses into foundation/locale/dossier.pot, add the missing ones
# to both catalogs (to be filled in), and list what is incomplete.
messages: $(BIN)/.dev-installed
	$(BIN)/python -m foundation.catalogs

typecheck: $(BIN)/.dev-installed
	$(BIN)/mypy

pytest: $(BIN)/.dev-installed
	$(BIN)/python -m pytest

test: test-system-deps $(BIN)/.dev-installed lint pytest

bench: setup
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/search.py --backend tantivy --no-peers
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/ocr.py
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/split.py
	$(BIN)/python bench/entities.py
	$(BIN)/python bench/export.py

# The manual: the screenshots its pages show (docs/**/screenshots/admin-<page>-<lang>-1024.png), taken now by the
# browser pages test into test-artifacts/screenshots, then `mkdocs build --strict` (any warning fails) into
# build/site, which `dossier serve` serves at /docs.  docs/_hooks/screenshots.py fails the build when one is missing.
DOCS_SHOTS = $(shell grep -rhoE 'screenshots/admin-[a-z0-9-]+-(zh|en)-1024\.png' docs | sed -E 's|screenshots/admin-(.*)-1024\.png|\1|' | sort -u)
empty :=
space := $(empty) $(empty)

screenshots: test-system-deps $(BIN)/.dev-installed
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/webui/test_webui_pages_browser.py \
	  -k "test_admin_page and ($(subst $(space), or ,$(strip $(DOCS_SHOTS))))"

docs: screenshots
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict
	@echo "==> 手册 / manual: build/site/index.html — dossier serve 在 /docs 提供 / served at http://$${DOSSIER_HOST:-127.0.0.1}:$${DOSSIER_PORT:-8000}/docs/"

# A real single-node OpenSearch (no Docker): the integ-test zip from Maven Central on Java 17, in the background.
OPENSEARCH_PORT ?= 9200
opensearch:
	@url=$$(bash .ci/opensearch.sh start $(OPENSEARCH_PORT)) && \
	  echo "OpenSearch 已启动 / is running: $$url" && \
	  echo "  export DOSSIER_OPENSEARCH_URL=$$url    # then: make test (runs the OpenSearch tests too), or make run" && \
	  echo "  make opensearch-stop                     # to stop it"

opensearch-stop:
	bash .ci/opensearch.sh stop $(OPENSEARCH_PORT)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
