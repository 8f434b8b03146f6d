"""course_lib: the small, tested helpers behind the course notebooks.

This package is what lessons and assignments import, and all a learner needs. The programs
that run the course (the notebook runner, the formatter, the benchmark) are in ``course_tools``,
which imports this package and never the reverse.

Modules, one job each:

- ``data``: the data-set registry and loaders (local folder, cache, or download with hash check).
- ``profiles``: the ``learn`` (default), ``full`` and ``smoke`` run profiles, per-notebook sizes and epochs, seeding.
- ``checks``: assertions that print and record the figures a notebook teaches.
- ``metrics``: the file those figures are recorded in for the run report (its format).
- ``plots``: plotting helpers shared by several lessons.
- ``setup``: the notebook preamble (versions, backend, GPU, Colab).
- ``mnist``: MNIST scaled, reshaped and split into seeded train/validation/test subsets.
- ``models``: convolution/pooling arithmetic, the MLP and CNN builders lessons reuse, and
  copying weights between layers.
- ``autodiff``: one gradient call for the TensorFlow, JAX and PyTorch backends.
- ``timeseries``: windows, chronological splits, a train-only scaler, RMSE.
- ``text``: a character vocabulary (characters <-> integer ids).
"""

__version__ = "0.1.0"

#: The course's GitHub repository, ``owner/name``. The one place it is set: the
#: Open-in-Colab badges and the Colab install line of every notebook are generated
#: from it (``course_tools.nbfmt``) and a test checks them.
GITHUB_REPO = "deep-learning-course/keras-course"
