# Set-up and checks for mmfocalnet. Every target installs what it needs first, and does so only once:
# the install stamp is redone only when the requirements, setup.py or the install scripts change.
#
#   make test                          # into .venv/ (created on first use)
#   make test PYTHON=/path/to/python   # into an existing environment; its torch is kept

VENV_PYTHON := .venv/bin/python
PYTHON ?= $(VENV_PYTHON)
STAMP := build/installed-$(subst /,_,$(PYTHON)).stamp
INSTALL_INPUTS := $(wildcard requirements/*.txt) setup.py scripts/install.sh scripts/build_mmcv_wheel.sh

.PHONY: install test demo clean

install: $(STAMP)

$(STAMP): $(INSTALL_INPUTS)
	bash scripts/install.sh $(if $(filter $(VENV_PYTHON),$(PYTHON)),,$(PYTHON))
	@mkdir -p build && touch $@

test: install
	$(PYTHON) -m pytest tests

demo: install
	$(PYTHON) tools/demo.py

clean:
	rm -rf build work_dirs
