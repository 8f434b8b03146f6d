# make course   create .venv, install, execute every notebook into build/, write build/report.md
# make test     create .venv if missing, run the whole test suite (unit tests + nbval, smoke profile)
# make lab      open JupyterLab on notebooks/ with the course kernel
# make site     the course as a website in build/site/html/, from the notebooks make course executed
# Windows (no make): see README, "Without make".

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
EXTRAS ?= dev,grading,browser,site
CELL_TIMEOUT ?= 600
export COURSE_PROFILE ?= smoke
# Notebooks run in notebooks/, so a relative data folder is made absolute here.
ifdef COURSE_DATA_DIR
override COURSE_DATA_DIR := $(abspath $(COURSE_DATA_DIR))
export COURSE_DATA_DIR
endif

.PHONY: venv test course lab site lint format clean test-backends

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[$(EXTRAS)]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (keras-course)"
	touch $(STAMP)

test: venv
	$(PY) -m pytest tests notebooks --nbval-lax --nbval-current-env --nbval-cell-timeout=$(CELL_TIMEOUT) -p no:cacheprovider

course: venv
	$(PY) tools/run_course.py --out build

site: venv
	test -f build/report.json || $(MAKE) course
	$(PY) tools/build_site.py --notebooks build/notebooks --report build/report.json --out build/site

lab: venv
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

lint: venv
	$(VENV)/bin/ruff check course_lib tools tests
	$(PY) tools/nbfmt.py --check

format: venv
	$(VENV)/bin/ruff check --fix course_lib tools tests
	$(PY) tools/nbfmt.py

clean:
	rm -rf build .pytest_cache

# make test-backends   the smoke profile on Keras's JAX and PyTorch backends (CPU builds, no TensorFlow):
#                      every notebook under nbval, then the benchmark's tests, once per backend, in a
#                      separate venv (.venv-backends, pins: constraints.txt + constraints-backends.txt).
#                      TensorFlow-only cells print a note there and are skipped.
BACKENDS       ?= jax torch
BACKENDS_VENV  := .venv-backends
BACKENDS_PY    := $(BACKENDS_VENV)/bin/python
BACKENDS_STAMP := $(BACKENDS_VENV)/.installed-stamp

$(BACKENDS_STAMP): pyproject.toml constraints.txt constraints-backends.txt
	test -x $(BACKENDS_PY) || $(PYTHON) -m venv $(BACKENDS_VENV)
	$(BACKENDS_PY) -m pip install --quiet --upgrade pip
	$(BACKENDS_PY) -m pip install --quiet -c constraints.txt -c constraints-backends.txt -e . \
		jax jaxlib torch pytest pytest-timeout nbval nbclient nbconvert nbformat ipykernel
	$(BACKENDS_PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (keras-course, JAX + PyTorch)"
	touch $(BACKENDS_STAMP)

test-backends: $(BACKENDS_STAMP)
	@start=$$(date +%s); failed=""; for backend in $(BACKENDS); do \
		echo "== KERAS_BACKEND=$$backend"; \
		KERAS_BACKEND=$$backend $(BACKENDS_PY) -m pytest notebooks tests/test_benchmark.py --nbval-lax \
			--nbval-current-env --nbval-cell-timeout=$(CELL_TIMEOUT) -p no:cacheprovider || failed="$$failed $$backend"; \
	done; echo "test-backends ($(BACKENDS)) took $$(( $$(date +%s) - start )) s$${failed:+; FAILED on:$$failed}"; \
	test -z "$$failed"

# make assignments   build the graded assignments (assignments/A*/A*.ipynb, otter-grader's assign
#                    format) into build/assignments/<name>/: student/ (hand this out) and
#                    autograder/ (the autograder zip and the solution). See assignments/README.md.
ASSIGNMENTS := $(wildcard assignments/A*/A*.ipynb)
.PHONY: assignments
assignments: venv
	@set -e; for nb in $(ASSIGNMENTS); do \
	  name=$$(basename $$nb .ipynb); \
	  rm -rf build/assignments/$$name; \
	  echo "otter assign $$nb -> build/assignments/$$name"; \
	  $(VENV)/bin/otter assign --no-pdfs $$nb build/assignments/$$name; \
	done
