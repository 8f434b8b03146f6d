# make venv            create .venv with the pinned versions (constraints.txt) and register the course kernel
# make test            the whole test suite: unit tests, doctests, every notebook under nbval (smoke profile)
# make course          execute every notebook into build/, write build/report.md (python -m course_tools.run_course)
# make lab             JupyterLab on notebooks/ with the course kernel (python -m course_tools.lab)
# make site            the course as a website in build/site/html/, from the notebooks make course executed
# make lint            ruff on the code, the lessons and the assignments; check the notebooks' format
# make format          ruff's safe fixes, then format every notebook (python -m course_tools.nbfmt)
# make assignments     build the graded assignments into build/assignments/ (see assignments/README.md)
# make grade           grade a folder of submissions, each in a sandbox (python -m course_tools.grading)
# make test-backends   every notebook on Keras's JAX and PyTorch backends, in .venv-backends
# make offline-bundle  build offline/ for a GPU host without internet access (needs COURSE_DATA_DIR)
# make offline-course  on that host: install from offline/, run the course and the benchmark
# make clean           remove build/
# Windows (no make): see README, "Without make". Settings: COURSE_DATA_DIR, COURSE_PROFILE, KERAS_BACKEND.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
EXTRAS ?= dev,grading,browser,site,jax
CELL_TIMEOUT ?= 600
# On the GPU host, the Python of the environment that has JAX for CUDA (activate it first).
HOST_PYTHON ?= python3
LINTED := course_lib course_tools tests notebooks assignments

.PHONY: venv test course lab site lint format assignments grade test-backends offline-bundle offline-course clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[$(EXTRAS)]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (keras-course)"
	touch $(STAMP)

test: venv
	$(PY) -m pytest tests course_lib course_tools notebooks --nbval-lax --nbval-current-env \
		--nbval-cell-timeout=$(CELL_TIMEOUT) -p no:cacheprovider

course: venv
	$(PY) -m course_tools.run_course --out build

site: venv
	test -f build/report.json || $(MAKE) course
	$(PY) -m course_tools.site --notebooks build/notebooks --report build/report.json --out build/site

lab: venv
	$(PY) -m course_tools.lab

lint: venv
	$(VENV)/bin/ruff check $(LINTED)
	$(PY) -m course_tools.nbfmt --check

format: venv
	$(VENV)/bin/ruff check --fix $(LINTED)
	$(PY) -m course_tools.nbfmt

clean:
	rm -rf build .pytest_cache

# assignments: otter assign on every master (assignments/A*/A*.ipynb) into build/assignments/<name>/:
# student/ (hand this out) and autograder/ (the autograder zip and the solution).
ASSIGNMENTS := $(wildcard assignments/A*/A*.ipynb)
assignments: venv
	@set -e; for nb in $(ASSIGNMENTS); do \
	  name=$$(basename $$nb .ipynb); \
	  rm -rf build/assignments/$$name; \
	  echo "otter assign $$nb -> build/assignments/$$name"; \
	  $(VENV)/bin/otter assign --no-pdfs $$nb build/assignments/$$name; \
	done

# test-backends: the smoke profile on Keras's JAX and PyTorch backends (CPU builds, no TensorFlow):
# every notebook under nbval, then the benchmark's tests, once per backend, in a separate venv
# (.venv-backends, pins: constraints.txt + constraints-backends.txt). TensorFlow-only cells print
# a note there and are skipped.
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

# offline-bundle / offline-course: see `python -m course_tools.offline --help` and README, "On a GPU
# host without internet access". The settings (PY_VERSION, HOST_PACKAGES, JOBS, COURSE_TIME_LIMIT,
# BENCHMARK_TIME_LIMIT, RESULTS_DIR, ...) are read from the environment.
offline-bundle: venv
	$(PY) -m course_tools.offline bundle

offline-course:
	$(HOST_PYTHON) -m course_tools.offline all

# make grade ASSIGNMENT=A1 SUBMISSIONS=submissions/A1 [OUT=grades/A1.csv] [JOBS=2]
#                    grade a folder of submissions, each in a bubblewrap sandbox, judged from outside
#                    it (python -m course_tools.grading; see assignments/README.md).
JOBS ?= 1
grade: venv
	@test -n "$(ASSIGNMENT)" -a -n "$(SUBMISSIONS)" || { echo "usage: make grade ASSIGNMENT=A1 SUBMISSIONS=folder [OUT=grades/A1.csv] [JOBS=2]" >&2; exit 2; }
	$(PY) -m course_tools.grading $(SUBMISSIONS) --assignment $(ASSIGNMENT) --out $(or $(OUT),grades/$(ASSIGNMENT).csv) --jobs $(JOBS)
