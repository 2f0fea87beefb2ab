# bertlab: the whole set-up is `make lab` (learn) and `make test` (check).
# Both create .venv with the pinned environment and fetch the offline assets on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.bertlab-installed
# Tests prove the workbook runs offline: the Hub is never asked.
OFFLINE := HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
NBVAL_TIMEOUT ?= 900
PORT ?= 8888

.PHONY: lab test unit notebooks portable fetch install list execute sync clean-venv help

help:
	@echo "make lab        set up (first time) and start JupyterLab on notebooks/"
	@echo "make test       set up (first time), unit tests, then every notebook under nbval"
	@echo "make unit       unit tests of the bertlab package only (fast)"
	@echo "make notebooks  nbval only"
	@echo "make portable   nbval under another CPU code path (proves outputs do not depend on the CPU)"
	@echo "make execute    re-execute every notebook in place (to commit fresh outputs)"
	@echo "make sync       copy markdown edits from sources/ into notebooks/ (outputs kept)"
	@echo "make fetch      download and verify the offline assets (idempotent)"
	@echo "make list       show cached assets and sizes"

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"bertlab needs Python 3.11, found {sys.version.split()[0]}: run make PYTHON=/path/to/python3.11"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PY) -c 'import pathlib, site; pathlib.Path(site.getsitepackages()[0], "bertlab-dev.pth").write_text("$(CURDIR)\n")'
	touch $(STAMP)

fetch: $(STAMP)
	$(PY) -m bertlab fetch

list: $(STAMP)
	$(PY) -m bertlab list

lab: fetch
	cd notebooks && ../$(VENV)/bin/jupyter lab --ip=127.0.0.1 --port=$(PORT) --no-browser \
	    $(if $(filter 0,$(shell id -u)),--allow-root)

unit: fetch
	$(OFFLINE) $(PY) -m pytest tests -q

notebooks: fetch
	$(OFFLINE) $(PY) -m pytest -q --nbval notebooks --nbval-cell-timeout=$(NBVAL_TIMEOUT) \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg

test: unit notebooks

# The same nbval run on another CPU code path than the one that wrote the outputs: torch's
# scalar kernels instead of AVX2/AVX-512 (ATEN_CPU_CAPABILITY=default; on torch 2.13 this also
# changes the bits of matmuls and int8 linear layers) and oneDNN capped at AVX2 (no AVX-512 or bf16).
portable: fetch
	ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=AVX2 $(MAKE) notebooks

# Regenerate each notebook from its jupytext source (sources/NN_*.py) and execute it in place,
# top to bottom, so the committed .ipynb carries fresh outputs with consecutive counts.
execute: fetch
	for py in sources/[0-9]*.py; do \
	    nb=notebooks/$$(basename "$${py%.py}").ipynb; \
	    $(VENV)/bin/jupytext --quiet --output "$$nb" "$$py" && \
	    $(OFFLINE) $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
	        --ExecutePreprocessor.timeout=$(NBVAL_TIMEOUT) "$$nb" || exit 1; \
	done

# After editing only markdown in sources/: copy the text into the notebooks, keeping their outputs.
sync: $(STAMP)
	for py in sources/[0-9]*.py; do \
	    $(VENV)/bin/jupytext --quiet --update --output notebooks/$$(basename "$${py%.py}").ipynb "$$py" || exit 1; \
	done

clean-venv:
	rm -rf $(VENV)
