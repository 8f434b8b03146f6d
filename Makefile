# make venv            create .venv with the pinned versions (constraints.txt) and register the course kernel
# make test            the whole test suite: unit tests, doctests, every notebook under nbval (smoke profile)
# make course          execute every notebook into build/, write build/report.md (python -m course_tools.run_course)
# make notebook NB=05  one notebook (NB="05 08": several) into a folder of its own, build/runs/05-<profile>-<backend>/,
#                      with its own report; PROFILE=learn|smoke|full picks the profile (else COURSE_PROFILE)
# make lab             JupyterLab on notebooks/ with the course kernel (python -m course_tools.lab);
#                      LAB_ARGS="--ip 0.0.0.0 --no-browser" passes options to jupyter lab
# make site            the course as a website in build/site/html/, from the notebooks make course executed
# make lint            ruff on the code, the lessons and the assignments; check the notebooks' format
# make format          ruff's safe fixes, then format every notebook (python -m course_tools.nbfmt)
# make assignments     build the graded assignments into build/assignments/ (see assignments/README.md)
# make grade           grade a folder of submissions, each in a sandbox (python -m course_tools.grading)
# make test-backends   every notebook on Keras's JAX and PyTorch backends, in .venv-backends
# make offline-bundle  build offline/ for a GPU host without internet access (needs COURSE_DATA_DIR)
# make offline-course  on that host: install from offline/, run the course and the benchmark
# make data DIR=path   download every data set into a folder, each SHA-256 checked (python -m course_tools.data)
# make add-torch       add PyTorch (CPU build) to .venv, for KERAS_BACKEND=torch make lab; add-jax: JAX (JAX_EXTRA=cuda13: GPU)
# make test-pythons    unit tests and one notebook on each Python of PYTHONS (3.11 3.12 3.13) found, .venv-py3.X
# make clean           remove build/ (the environments stay: make clean-venv removes them)
# make clean-venv      remove the environments: .venv, .venv-backends, .venv-py3.*
# Windows (no make): see README, "Without make". Settings: COURSE_DATA_DIR, COURSE_PROFILE, KERAS_BACKEND.
# Profiles: course, lab and site run `learn` (make course PROFILE=full, or COURSE_PROFILE=full make course);
# test and test-backends always run `smoke`.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
EXTRAS ?= dev,grading,browser,site,jax
CELL_TIMEOUT ?= 600
PROFILE ?= $(or $(COURSE_PROFILE),learn)
# On the GPU host, the Python of the environment that has JAX for CUDA (activate it first).
HOST_PYTHON ?= python3
LINTED := course_lib course_tools tests notebooks assignments conftest.py

.PHONY: venv test course lab site lint format assignments grade test-backends offline-bundle offline-course clean
.PHONY: check-python notebook data add-jax add-torch test-pythons clean-venv

venv: check-python $(STAMP)

# PYTHON given (make PYTHON=python3.12 ...) while .venv holds another Python: say so, change nothing.
check-python:
	@if [ "$(origin PYTHON)" != file ] && [ -x $(PY) ]; then \
	  want=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])') || exit 2; \
	  have=$$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	  if [ "$$want" != "$$have" ]; then \
	    echo "PYTHON=$(PYTHON) is Python $$want, but $(VENV) was made with Python $$have and is kept as it is." >&2; \
	    echo "To switch: make clean-venv, then make venv PYTHON=$(PYTHON)" >&2; exit 2; \
	  fi; \
	fi

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[$(EXTRAS)]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (keras-course)"
	touch $(STAMP)

test: venv
	COURSE_PROFILE=smoke COURSE_PROGRESS=epoch $(PY) -m pytest tests course_lib course_tools notebooks --nbval-lax --nbval-current-env \
		--nbval-cell-timeout=$(CELL_TIMEOUT) -p no:cacheprovider

course: venv
	COURSE_PROFILE=$(PROFILE) $(PY) -m course_tools.run_course --out build

site: venv
	test -f build/report.json || $(MAKE) course
	COURSE_PROFILE=$(PROFILE) $(PY) -m course_tools.site --notebooks build/notebooks --report build/report.json --out build/site

lab: venv
	COURSE_PROFILE=$(PROFILE) $(PY) -m course_tools.lab $(LAB_ARGS)

lint: venv
	$(VENV)/bin/ruff check $(LINTED)
	$(PY) -m course_tools.nbfmt --check

format: venv
	$(VENV)/bin/ruff check --fix $(LINTED)
	$(PY) -m course_tools.nbfmt

clean:
	rm -rf build .pytest_cache

clean-venv:
	rm -rf $(VENV) .venv-backends .venv-py3.*

# notebook: make notebook NB=05 [PROFILE=full]; the run's folder and report: python -m course_tools.run_course --help
notebook: venv
	@test -n "$(NB)" || { echo "usage: make notebook NB=05 [PROFILE=learn|smoke|full]" >&2; exit 2; }
	$(if $(PROFILE),COURSE_PROFILE=$(PROFILE) )$(PY) -m course_tools.run_course $(NB)

# data: make data DIR=~/course-data; then COURSE_DATA_DIR=~/course-data (URLs and hashes: course_lib/data.py)
data: venv
	@test -n "$(DIR)" || { echo "usage: make data DIR=folder" >&2; exit 2; }
	$(PY) -m course_tools.data $(DIR)

# add-jax / add-torch: Keras's other backends in .venv (pins: constraints-backends.txt), CPU builds.
# PyTorch comes from PyTorch's CPU wheel index (TORCH_INDEX; PyPI's Linux wheel is the large CUDA
# build). For an NVIDIA GPU: make add-jax JAX_EXTRA=cuda13 (or cuda12); make add-torch TORCH_INDEX=
# (empty: PyPI's CUDA build on Linux) or TORCH_INDEX=https://download.pytorch.org/whl/cu<version>.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
TORCH_INDEX_ARG = $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))
JAX_EXTRA ?=
add-jax: venv
	$(PY) -m pip install --quiet -c constraints.txt -c constraints-backends.txt -e ".[jax]" $(if $(JAX_EXTRA),"jax[$(JAX_EXTRA)]")

add-torch: venv
	$(PY) -m pip install --quiet -c constraints.txt -c constraints-backends.txt $(TORCH_INDEX_ARG) -e ".[torch]"

# test-pythons: on each Python of PYTHONS found on PATH (python3.X), its own environment
# .venv-py3.X (the dev extra, pinned by constraints.txt), then the unit tests of course_lib and
# course_tools below and one notebook under nbval (smoke). A Python not found is skipped and named
# (with pyenv: PYENV_VERSION=3.11.7:3.12.1:3.13.0 make test-pythons puts all three on PATH).
PYTHONS ?= 3.11 3.12 3.13
PYTHONS_TESTS ?= course_lib tests/test_autodiff.py tests/test_checks.py tests/test_data.py \
	tests/test_data_download.py tests/test_metrics.py tests/test_mnist.py tests/test_models.py \
	tests/test_plots.py tests/test_profiles.py tests/test_setup.py tests/test_text.py \
	tests/test_timeseries.py tests/test_run_course.py tests/test_readme.py notebooks/01_linear_regression.ipynb
test-pythons:
	@start=$$(date +%s); passed=""; failed=""; missing=""; for v in $(PYTHONS); do \
	  py=$$(command -v python$$v) && $$py -c "" 2>/dev/null || { echo "== Python $$v: no working python$$v on PATH, skipped"; missing="$$missing $$v"; continue; }; \
	  env=.venv-py$$v; echo "== Python $$v ($$py) in $$env"; \
	  if [ ! -f $$env/.installed-stamp ] || [ constraints.txt -nt $$env/.installed-stamp ] || [ pyproject.toml -nt $$env/.installed-stamp ]; then \
	    { test -x $$env/bin/python || $$py -m venv $$env; } && $$env/bin/python -m pip install --quiet --upgrade pip \
	    && $$env/bin/python -m pip install --quiet -c constraints.txt -e ".[dev]" \
	    && $$env/bin/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (keras-course, $$v)" \
	    && touch $$env/.installed-stamp || { failed="$$failed $$v(install)"; continue; }; \
	  fi; \
	  COURSE_PROFILE=smoke COURSE_PROGRESS=epoch $$env/bin/python -m pytest $(PYTHONS_TESTS) --nbval-lax --nbval-current-env \
	    --nbval-cell-timeout=$(CELL_TIMEOUT) -p no:cacheprovider -q && passed="$$passed $$v" || failed="$$failed $$v"; \
	done; echo "test-pythons took $$(( $$(date +%s) - start )) s; passed:$${passed:- none}$${failed:+; FAILED:$$failed}$${missing:+; not found:$$missing}"; \
	test -z "$$failed"

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
	$(BACKENDS_PY) -m pip install --quiet -c constraints.txt -c constraints-backends.txt $(TORCH_INDEX_ARG) -e . \
		jax jaxlib torch pytest pytest-timeout nbval nbclient nbconvert nbformat ipykernel
	$(BACKENDS_PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (keras-course, JAX + PyTorch)"
	touch $(BACKENDS_STAMP)

test-backends: $(BACKENDS_STAMP)
	@start=$$(date +%s); failed=""; for backend in $(BACKENDS); do \
		echo "== KERAS_BACKEND=$$backend"; \
		KERAS_BACKEND=$$backend COURSE_PROFILE=smoke COURSE_PROGRESS=epoch $(BACKENDS_PY) -m pytest notebooks tests/test_benchmark.py --nbval-lax \
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
