# honyaku — set-up and everyday commands. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Tests, CI and the demo read small_parallel_enja from the shared copy beside the checkout when there is one.
SHARED_CORPUS := $(abspath $(wildcard ../shared/data/small_parallel_enja))
DEMO_RUN := runs/demo
DEMO_OUT := runs/demo-pretrained

.PHONY: install browser test lint docs demo demo-train peers clean

install: $(VENV)/.installed

# The full install: training, tests and dev tools. torch is pinned and installed first: an unpinned torch would
# pull a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# The light install (no PyTorch) with MeCab, which the bundled ja→en model needs for Japanese input; where .venv
# holds the full install already, this adds nothing.
$(VENV)/.installed-light: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[ja]'
	touch $@

# The web page's test drives Debian's Chromium (Playwright's own browser download does not work offline), with a
# Japanese font (IPA Gothic), without which the page's Japanese would be drawn as boxes.
BROWSER_PACKAGES := chromium fonts-ipafont-gothic
browser:
	@{ command -v chromium >/dev/null && fc-list :lang=ja | grep -q .; } || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES); \
	  else echo "make test needs Debian's $(BROWSER_PACKAGES): sudo apt-get install $(BROWSER_PACKAGES)"; exit 1; fi; }

# One worker per core (pytest-xdist), each on one thread; idle workers take tests from busy ones (worksteal).
test: install browser
	HONYAKU_DATA_DIR="$${HONYAKU_DATA_DIR:-$(SHARED_CORPUS)}" $(BIN)/python -m pytest -n auto --dist worksteal

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports --no-cache  # the layers of ARCHITECTURE.md (contracts in pyproject.toml)

# docs/configuration.md, from the config classes and their comments (tests/test_config.py checks it is current).
docs: install
	$(BIN)/python -m honyaku.core.config_reference > docs/configuration.md

# The bundled models translate the seeds' sentences and a few more, offline, both ways: source → translation.
demo: $(VENV)/.installed-light
	@mkdir -p $(DEMO_OUT)
	@for direction in en-ja ja-en; do src=$${direction%-*}; tgt=$${direction#*-}; \
	  command="$(BIN)/honyaku translate --src $$src --input examples/demo.$$src --output $(DEMO_OUT)/demo.$$tgt"; \
	  echo "$$command"; $$command || exit 1; \
	  paste examples/demo.$$src $(DEMO_OUT)/demo.$$tgt | sed 's/\t/   →   /'; done

# The main job end to end at a small size: corpus → a couple of minutes of training → translations → BLEU.
demo-train: install
	$(BIN)/honyaku data fetch $(if $(SHARED_CORPUS),--from $(SHARED_CORPUS))
	$(BIN)/honyaku train configs/demo.yaml --out $(DEMO_RUN) --overwrite
	@corpus=$$($(BIN)/honyaku data path) && head -n 8 $$corpus/test.en > $(DEMO_RUN)/sample.en
	$(BIN)/honyaku translate -m $(DEMO_RUN) --input $(DEMO_RUN)/sample.en --output $(DEMO_RUN)/sample.ja
	@paste $(DEMO_RUN)/sample.en $(DEMO_RUN)/sample.ja | sed 's/\t/   →   /'
	$(BIN)/honyaku evaluate -m $(DEMO_RUN) --split test

# Peers for bench/peers.py, each in its own venv beside ours (never a dependency of honyaku), torch pinned alike.
# A peer that does not install on this Python is reported and left out; the others still install.
PEER_PACKAGES_joeynmt := joeynmt==2.3.0 importlib_metadata
PEER_PACKAGES_onmt := OpenNMT-py==3.0.4
PEER_PACKAGES_eole := eole==0.6.4 aiohttp  # its CLI imports every tool, the load tester (aiohttp) too
PEER_PACKAGES_hf := transformers sentencepiece ctranslate2==4.8.*
PEER_PACKAGES_fairseq := fairseq-fixed==0.12.3.1
PEERS := joeynmt onmt eole hf fairseq

peers: $(foreach peer,$(PEERS),.venv-peers-$(peer)/.installed)

.venv-peers-%/.installed:
	$(PYTHON) -m venv .venv-peers-$*
	.venv-peers-$*/bin/pip install --quiet torch==2.13.0
	.venv-peers-$*/bin/pip install --quiet torch==2.13.0 $(PEER_PACKAGES_$*) && touch $@ \
	  || echo "make peers: $* did not install on $$($(PYTHON) --version); bench/peers.py leaves it out"

clean:
	rm -rf $(VENV) .venv-peers-* build *.egg-info src/*.egg-info .pytest_cache .ruff_cache
