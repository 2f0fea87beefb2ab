# bertlab: the whole set-up is `make lab` (learn) and `make test` (check).
# Both create .venv with the pinned environment and fetch the offline assets on first use.

# The Python that makes .venv: the first of these that runs. CI and the committed outputs use 3.11;
# 3.12 and 3.13 install the same lock (README: "Which Pythons"). Name another: make PYTHON=/path/to/python3.12
PYTHON ?= $(firstword $(foreach p,python3.11 python3.12 python3.13 python3,$(shell $(p) -c 'import sys; print(sys.executable)' 2>/dev/null)))
SUPPORTED := import sys; v = sys.version_info[:2]; sys.exit(None if (3, 11) <= v <= (3, 13) else f"bertlab runs on Python 3.11, 3.12 or 3.13, and {sys.executable} is Python {sys.version.split()[0]}: install one of those (python.org, your package manager or pyenv) and run make PYTHON=/path/to/python3.11")
# torch is installed by its pin in requirements.in, after the hashed lock (scripts/lock.py says why).
TORCH  := $(shell grep -E '^torch==' requirements.in)
VENV   := .venv
STAMP  := $(VENV)/.bertlab-installed
# The Python that runs everything: the pinned .venv, made on first use. On a CUDA machine with its own
# torch, name that Python instead (`make test-gpu PY=python3`; requirements-gpu.txt lists what it must
# add): then nothing is installed, and bertlab is imported from this checkout.
PY     ?= $(VENV)/bin/python
SETUP  := $(if $(filter $(VENV)/bin/python,$(PY)),$(STAMP),)
ON_PATH := $(if $(SETUP),,PYTHONPATH=$(CURDIR)$${PYTHONPATH:+:$$PYTHONPATH})
# Tests prove the workbook runs offline: the Hub is never asked.
# nbval executes the English notebooks only: notebooks/zh/ holds the same code cells and outputs
# (tests/test_translation.py checks that cell for cell), so executing it again would prove nothing.
OFFLINE := HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
NBVAL_TIMEOUT ?= 900
PORT ?= 8888
SHELL := /bin/bash
# Extra JupyterLab options, e.g. LAB_ARGS=--IdentityProvider.token=workshop (the browser test sets one).
LAB_ARGS ?=
# The folder JupyterLab opens: notebooks/ (the teacher's copies, with solutions) or LAB_DIR=student.
LAB_DIR ?= notebooks
# A room with no Wi-Fi: `make lab WHEELHOUSE=/media/stick/wheelhouse ASSETS=/media/stick/assets`
# installs from the wheels with no index and unpacks the asset cache (see docs/teaching.md).
WHEELHOUSE ?=
ASSETS ?=
PIP_FROM := $(if $(WHEELHOUSE),--no-index --find-links $(WHEELHOUSE),)
TEACHER := $(VENV)/.bertlab-teacher

.PHONY: lock test-latest lab lab-settings test unit notebooks portable fetch install list execute sync zh student site wheelhouse \
        teacher test-browser test-student clean-venv help test-gpu record-full gpu-pack

help:
	@echo "make lab        set up (first time) and start JupyterLab on notebooks/"
	@echo "make test       set up (first time), unit tests, then every notebook under nbval"
	@echo "make lock       re-lock: requirements.in (+ -teacher.in) -> requirements.txt, requirements-teacher.txt, environment.yml, requirements-gpu.txt"
	@echo "make test-latest   the tests on the newest releases of the top-level packages, in .venv-latest; a record in runs/ (never part of make test)"
	@echo "make unit       unit tests of the bertlab package only (fast)"
	@echo "make notebooks  nbval only"
	@echo "make portable   nbval under another CPU code path (proves outputs do not depend on the CPU)"
	@echo "make execute    re-execute every notebook in place (to commit fresh outputs)"
	@echo "make sync       copy markdown edits from sources/ into notebooks/ (outputs kept), then make zh"
	@echo "make zh         build the Chinese edition notebooks/zh/ from the English notebooks and sources/zh/*.md"
	@echo "make fetch      download and verify the offline assets (idempotent)"
	@echo "make list       show cached assets and sizes"
	@echo "make student    write student copies (solutions replaced by stubs) to student/ and student/zh/"
	@echo "make site       render the executed notebooks to site/, a static site that works with no network"
	@echo "make wheelhouse download every pinned wheel to wheelhouse/ (for a room with no Wi-Fi)"
	@echo "make test-browser  real-browser tests: JupyterLab runs notebook 00; the offline site renders"
	@echo "make test-student  run every student copy top to bottom (stops only at exercises)"
	@echo "make test-gpu   nbval on every notebook on CUDA, quick profile, against the committed outputs"
	@echo "make record-full   the full profile of every notebook it changes, executed into results/gpu-full/ with RUN.md"
	@echo "make gpu-pack   the compact asset pack (in chunks) and wheels, in .gpu/, for a GPU machine with no network"

install: $(STAMP)

# The lock (every package by version and sha256, no dependency resolution at install time), then torch
# by version, then pip's own consistency check.
$(STAMP): requirements.txt requirements.in pyproject.toml
	@test -n "$(PYTHON)" || { echo "bertlab needs Python 3.11, 3.12 or 3.13, and none of python3.11, python3.12, python3.13 or python3 runs here: install one (python.org, your package manager or pyenv)"; exit 1; }
	@$(PYTHON) -c '$(SUPPORTED)'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c '$(SUPPORTED)' || { echo "(.venv was made by another Python: make clean-venv, then again)"; exit 1; }
	$(PY) -m pip install --disable-pip-version-check -q $(PIP_FROM) --require-hashes --no-deps -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q $(PIP_FROM) $(TORCH)
	$(PY) -m pip check
	$(PY) -c 'import pathlib, site; pathlib.Path(site.getsitepackages()[0], "bertlab-dev.pth").write_text("$(CURDIR)\n")'
	$(MAKE) --no-print-directory lab-settings
	touch $(STAMP)

# Re-lock after editing requirements.in or requirements-teacher.in (needs the network). uv resolves for
# Python 3.11-3.13 on every platform at once; it runs from its own venv, so .venv stays exactly the lock.
UV_VERSION := 0.13.8
LOCK_TOOLS := .lock-tools
lock:
	test -x $(LOCK_TOOLS)/bin/uv || { $(PYTHON) -m venv $(LOCK_TOOLS) && \
	    $(LOCK_TOOLS)/bin/pip install --disable-pip-version-check -q uv==$(UV_VERSION) $$(grep -oE '^packaging==[^ ]+' requirements.txt); }
	$(LOCK_TOOLS)/bin/python scripts/lock.py --uv $(LOCK_TOOLS)/bin/uv

# An early warning, never part of `make test` or .ci/run: a separate venv with the newest release of every
# top-level package (requirements.in's pins become floors; torch keeps its pin), then the unit tests and
# nbval on every notebook, whatever fails. The record: runs/latest-DATE.json (scripts/test_latest.py).
LATEST := .venv-latest
test-latest: fetch
	rm -rf $(LATEST) && $(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/pip install --disable-pip-version-check -q $(TORCH)
	grep -E '^[A-Za-z]' requirements.in | grep -v '^torch==' | sed -E 's/==/>=/' > $(LATEST)/floors.txt
	echo "$(TORCH)" > $(LATEST)/torch.txt
	$(LATEST)/bin/pip install --disable-pip-version-check -q --upgrade --upgrade-strategy eager \
	    -c $(LATEST)/torch.txt -r $(LATEST)/floors.txt
	$(LATEST)/bin/python -c 'import pathlib, site; pathlib.Path(site.getsitepackages()[0], "bertlab-dev.pth").write_text("$(CURDIR)\n")'
	-$(OFFLINE) $(LATEST)/bin/python -m pytest tests -q --ignore=tests/browser -m "not pinned" \
	    --junitxml=$(LATEST)/unit.xml 2>&1 | tee $(LATEST)/unit.log
	-$(MAKE) --no-print-directory notebooks PY=$(LATEST)/bin/python NBVAL_ARGS="--junitxml=$(LATEST)/nbval.xml" \
	    2>&1 | tee $(LATEST)/nbval.log
	$(LATEST)/bin/python scripts/test_latest.py $(LATEST)

# JupyterLab's defaults for a room that may have no Wi-Fi: never ask about or fetch Jupyter news.
lab-settings:
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp jupyter/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json

fetch: $(SETUP)
	$(if $(ASSETS),$(PY) -m bertlab unpack $(ASSETS),$(PY) -m bertlab fetch)

list: $(STAMP)
	$(PY) -m bertlab list

lab: fetch lab-settings
	cd $(LAB_DIR) && $(abspath $(VENV))/bin/jupyter lab --ip=127.0.0.1 --port=$(PORT) --no-browser \
	    $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

unit: fetch
	$(OFFLINE) $(PY) -m pytest tests -q --ignore=tests/browser

notebooks: fetch
	$(OFFLINE) $(ON_PATH) $(PY) -m pytest -q --nbval $(NB_PATHS) --ignore=notebooks/zh --nbval-cell-timeout=$(NBVAL_TIMEOUT) \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg $(NBVAL_ARGS)

test: unit notebooks

# The same nbval run on another CPU code path than the one that wrote the outputs: torch's
# scalar kernels instead of AVX2/AVX-512 (ATEN_CPU_CAPABILITY=default; on torch 2.13 this also
# changes the bits of matmuls and int8 linear layers) and oneDNN capped at AVX2 (no AVX-512 or bf16).
portable: fetch
	ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=AVX2 $(MAKE) notebooks

# ---- GPU: nbval on CUDA against the committed outputs, and the full-profile run record --------------------
# `make test-gpu record-full` on a CUDA machine writes results/gpu-full/ (see bertlab/record.py); together
# they should take at most 9 minutes on one H200. NB="00 01" limits both to some notebooks. A dry run on
# a CPU: BERTLAB_DEVICE=cpu make test-gpu record-full NB="00 01" RECORD_PROFILE=quick RECORD=/tmp/dry-run
NB ?=
NB_PATHS = $(if $(NB),$(foreach n,$(NB),$(wildcard notebooks/$(n)_*.ipynb)),notebooks)
RECORD ?= results/gpu-full
RECORD_PROFILE ?= full
NEED_CUDA = $(PY) -c 'import os, sys, torch; sys.exit(0 if torch.cuda.is_available() or os.environ.get("BERTLAB_DEVICE") == "cpu" else "this torch ($(PY)) sees no CUDA GPU: on a CUDA machine run make PY=/path/to/its/python; BERTLAB_DEVICE=cpu makes this a dry run on the CPU")'

test-gpu: fetch
	@$(NEED_CUDA)
	mkdir -p $(RECORD)
	BERTLAB_DEVICE=$${BERTLAB_DEVICE:-cuda} $(MAKE) --no-print-directory notebooks \
	    NBVAL_ARGS="--nbval-current-env --junitxml=$(RECORD)/nbval.xml" 2>&1 | tee $(RECORD)/nbval.log; \
	    exit $${PIPESTATUS[0]}

record-full: fetch
	@$(NEED_CUDA)
	BERTLAB_RECORD_COMMAND="make record-full$(if $(NB), NB=\"$(NB)\")$(if $(filter-out full,$(RECORD_PROFILE)), RECORD_PROFILE=$(RECORD_PROFILE))" \
	    $(OFFLINE) $(ON_PATH) $(PY) -m bertlab record $(NB) --profile $(RECORD_PROFILE) --out $(RECORD) \
	    --timeout $(NBVAL_TIMEOUT)

# What a GPU machine with no network needs beside the repository, in .gpu/ (git ignores it): the
# extracted assets as gzipped chunks of at most CHUNK_MIB (each can travel alone), and the wheels of
# requirements-gpu.txt for its Python. scripts/gpu_check.sh unpacks them there.
GPU_PYTHON_VERSION ?= 3.12
CHUNK_MIB ?= 28
gpu-pack: fetch
	$(PY) -m bertlab pack .gpu/assets --compact --chunk-mib $(CHUNK_MIB) --quiet
	rm -rf .gpu/wheels && $(PY) -m pip download --disable-pip-version-check -q --no-deps --only-binary=:all: \
	    --python-version $(GPU_PYTHON_VERSION) --implementation cp --platform manylinux_2_28_x86_64 \
	    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .gpu/wheels -r requirements-gpu.txt
	du -sh .gpu/assets .gpu/wheels
	@git ls-files -z | xargs -0 cat | wc -c | awk '{printf "the tracked files, which travel with every transfer: %.1f MiB\n", $$1 / 1048576}'

# Regenerate each notebook from its jupytext source (sources/NN_*.py) and execute it in place,
# top to bottom, so the committed .ipynb carries fresh outputs with consecutive counts.
execute: fetch
	for py in sources/[0-9]*.py; do \
	    nb=notebooks/$$(basename "$${py%.py}").ipynb; \
	    $(VENV)/bin/jupytext --quiet --output "$$nb" "$$py" && \
	    $(OFFLINE) $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
	        --ExecutePreprocessor.timeout=$(NBVAL_TIMEOUT) "$$nb" || exit 1; \
	done
	$(MAKE) --no-print-directory zh

# After editing only markdown in sources/: copy the text into the notebooks, keeping their outputs.
sync: $(STAMP)
	for py in sources/[0-9]*.py; do \
	    $(VENV)/bin/jupytext --quiet --update --output notebooks/$$(basename "$${py%.py}").ipynb "$$py" || exit 1; \
	done
	$(MAKE) --no-print-directory zh

# The Chinese edition: each English notebook with its markdown translated (sources/zh/NN_*.md), code
# and outputs copied. Fails, listing them, when a cell has no translation of its current English text.
zh: $(STAMP)
	$(PY) -m bertlab zh

# Teacher's tools (requirements-teacher.txt), installed beside the pinned environment on first use.
teacher: $(TEACHER)

# nbgrader's JupyterLab menus and server extensions stay off (bertlab uses only its ClearSolutions
# preprocessor), so JupyterLab looks the same to a learner on a teacher's machine. To use nbgrader's
# course tools: .venv/bin/jupyter labextension enable @jupyter/nbgrader --level=sys_prefix (and the
# server extensions with `jupyter server extension enable --sys-prefix nbgrader.server_extensions.NAME`).
$(TEACHER): requirements-teacher.txt $(STAMP)
	$(PY) -m pip install --disable-pip-version-check -q $(PIP_FROM) --require-hashes --no-deps -r requirements-teacher.txt
	$(PY) -m pip check
	$(VENV)/bin/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader >/dev/null
	for ext in formgrader validate_assignment assignment_list course_list; do \
	    $(VENV)/bin/jupyter server extension disable --sys-prefix nbgrader.server_extensions.$$ext >/dev/null 2>&1 || exit 1; \
	done
	touch $(TEACHER)

student: $(TEACHER)
	$(PY) -m bertlab student

test-student: student fetch
	BERTLAB_STUDENT_RUN=all $(OFFLINE) $(PY) -m pytest -q tests/test_student.py

site: $(STAMP)
	$(PY) -m bertlab site

wheelhouse:
	$(PYTHON) -m pip download --disable-pip-version-check -q -d wheelhouse --require-hashes --no-deps \
	    -r requirements.txt -r requirements-teacher.txt
	$(PYTHON) -m pip download --disable-pip-version-check -q -d wheelhouse $(TORCH)

test-browser: $(TEACHER) fetch site
	$(OFFLINE) $(PY) -m pytest -q tests/browser

clean-venv:
	rm -rf $(VENV)
