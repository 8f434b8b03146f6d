"""course_lib: the small, tested helpers behind the course notebooks.

Modules, one job each:

- ``data``: the data-set registry and loaders (local folder, cache, or download with hash check).
- ``profiles``: the ``smoke`` and ``full`` run profiles, per-notebook sizes and epochs, seeding.
- ``checks``: assertions that print and record the figures a notebook teaches.
- ``plots``: plotting helpers shared by several lessons.
- ``setup``: the notebook preamble (versions, backend, GPU, Colab).
- ``mnist``: MNIST scaled, reshaped and split into seeded train/validation/test subsets.
- ``models``: convolution/pooling arithmetic and the MLP and CNN builders lessons reuse.
- ``autodiff``: one gradient call for the TensorFlow, JAX and PyTorch backends.
- ``cells``: NumPy reference steps of SimpleRNN, GRU and LSTM in Keras's weight layout.
- ``timeseries``: windows, chronological splits, a train-only scaler, RMSE.
- ``text``: a character vocabulary (characters <-> integer ids).
"""

__version__ = "0.1.0"

#: The course's GitHub repository, ``owner/name``. The one place it is set: the
#: Open-in-Colab badges and the Colab install line of every notebook are generated
#: from it (``tools/nbfmt.py``) and a test checks them.
GITHUB_REPO = "deep-learning-course/keras-course"
