# Set-up and checks for mmfocalnet. Every target installs what it needs first, and does so only once:
# the install stamp is redone only when the requirements, setup.py or the install scripts change.
#
#   make test                          # into .venv/ (created on first use)
#   make test PYTHON=/path/to/python   # into an existing environment; its torch is kept
#   make lint                          # flake8, isort and yapf as configured in setup.cfg (checks only)

VENV_PYTHON := .venv/bin/python
PYTHON ?= $(VENV_PYTHON)
STAMP := build/installed-$(subst /,_,$(PYTHON)).stamp
INSTALL_INPUTS := $(wildcard requirements/*.txt) setup.py scripts/install.sh scripts/build_mmcv_wheel.sh

.PHONY: install test demo lint clean

LINT_PATHS := mmfocalnet tools tests configs setup.py

install: $(STAMP)

$(STAMP): $(INSTALL_INPUTS)
	bash scripts/install.sh $(if $(filter $(VENV_PYTHON),$(PYTHON)),,$(PYTHON))
	@mkdir -p build && touch $@

test: install
	$(PYTHON) -m pytest tests

demo: install
	$(PYTHON) tools/demo.py

lint: install
	$(PYTHON) -m pip --disable-pip-version-check install -q -c build/constraints.txt -r requirements/lint.txt
	$(PYTHON) -m flake8 $(LINT_PATHS)
	$(PYTHON) -m isort --check-only --diff $(LINT_PATHS)
	$(PYTHON) -m yapf --diff --recursive $(LINT_PATHS)

clean:
	rm -rf build work_dirs
