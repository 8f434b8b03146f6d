"""course_lib.data: registry, loaders, resolution order and every error case."""

import shutil

import numpy as np
import pandas as pd
import pytest

from course_lib import data


def test_registry_matches_the_local_copies(data_dir):
    sums = dict(reversed(line.split()) for line in (data_dir / "SHA256SUMS").read_text().splitlines() if line)
    for d in data.REGISTRY.values():
        assert d.url.startswith("https://"), d.url
        assert len(d.sha256) == 64
        if d.arrays_sha256 is None:
            assert sums[d.filename] == d.sha256, d.name
        assert data.verify(data_dir / d.filename, d.name) == data_dir / d.filename


def test_arrays_sha256_is_the_hash_of_names_shapes_and_bytes():
    a = np.arange(6, dtype=np.uint8).reshape(2, 3)
    b = np.array([7], dtype=np.uint8)
    import hashlib

    expected = hashlib.sha256(b"a |u1 (2, 3)\n" + bytes(range(6)) + b"b |u1 (1,)\n" + bytes([7])).hexdigest()
    assert data.arrays_sha256({"a": a, "b": b}, ("a", "b")) == expected
    assert data.arrays_sha256({"a": np.asfortranarray(a), "b": b}, ("a", "b")) == expected  # layout: no matter
    assert data.arrays_sha256({"a": a.reshape(3, 2), "b": b}, ("a", "b")) != expected  # shape: matters
    assert data.arrays_sha256({"a": a.astype(np.int64), "b": b}, ("a", "b")) != expected  # dtype: matters


def test_every_dataset_has_a_card():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "datasets"
    for d in data.REGISTRY.values():
        card = (folder / f"{d.name}.md").read_text()
        assert d.filename in card and d.url in card and d.sha256 in card, f"datasets/{d.name}.md is out of date"
        assert d.arrays_sha256 is None or d.arrays_sha256 in card, f"datasets/{d.name}.md is out of date"


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError) as err:
        data.fetch("mnits")
    message = str(err.value)
    assert "mnits" in message and "mnist" in message and "airline_passengers" in message


def test_food_truck(data_dir, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(data_dir))
    x, y = data.load_food_truck()
    assert x.shape == y.shape == (97,)
    assert (x[0], y[0]) == (6.1101, 17.592)


def test_house_prices_and_exams(data_dir, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(data_dir))
    X, y = data.load_house_prices()
    assert X.shape == (47, 2) and y.shape == (47,) and y[0] == 399900
    X, y = data.load_exam_admissions()
    assert X.shape == (100, 2) and set(np.unique(y)) == {0, 1} and y.dtype.kind == "i"
    X, y = data.load_microchips()
    assert X.shape == (118, 2) and set(np.unique(y)) == {0, 1}


def test_airline_is_a_monthly_series(data_dir, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(data_dir))
    s = data.load_airline_passengers()
    assert isinstance(s, pd.Series) and len(s) == 144
    assert s.index[0] == pd.Timestamp("1949-01-01") and s.index[-1] == pd.Timestamp("1960-12-01")
    assert s.index.freqstr == "MS" and s.iloc[0] == 112 and s.iloc[-1] == 432


def test_goog_is_chronological(data_dir, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(data_dir))
    df = data.load_goog_daily()
    assert list(df.columns) == ["open", "high", "low", "volume", "close"]
    raw = np.loadtxt(data_dir / "data-02-stock_daily.csv", delimiter=",", comments="#")
    # the file lists the newest day first: the loader's last row is the file's first
    np.testing.assert_allclose(df.iloc[-1].to_numpy(), raw[0])
    np.testing.assert_allclose(df.iloc[0].to_numpy(), raw[-1])
    assert len(df) == len(raw) == 732


def test_tiny_shakespeare(data_dir, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(data_dir))
    text = data.load_tiny_shakespeare()
    assert len(text) == 1115394 and text.startswith("First Citizen:")


def test_mnist_from_local_mirror(data_dir, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(data_dir))
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and y_test.dtype == np.uint8
    assert list(y_train[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    scaled = x_train / 255.0
    assert round(float(scaled.mean()), 4) == 0.1307 and round(float(scaled.std()), 4) == 0.3081


def _altered_mnist(data_dir):
    """Genuine MNIST with every training image blank and the test labels shuffled: the shapes,
    dtypes and label counts are still those of MNIST."""
    with np.load(data_dir / "mnist.npz") as f:
        arrays = {k: f[k] for k in f.files}
    arrays["x_train"] = np.zeros_like(arrays["x_train"])
    arrays["y_test"] = np.random.default_rng(0).permutation(arrays["y_test"])
    return arrays


def test_altered_mnist_is_refused(tmp_path, data_dir, monkeypatch):
    np.savez_compressed(tmp_path / "mnist.npz", **_altered_mnist(data_dir))
    before = (tmp_path / "mnist.npz").read_bytes()
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    mnist = data.REGISTRY["mnist"]
    with pytest.raises(data.DataHashError) as err:
        data.load_mnist()
    message = str(err.value)
    assert str(tmp_path / "mnist.npz") in message and mnist.arrays_sha256 in message
    assert data.arrays_sha256(_altered_mnist(data_dir), mnist.arrays) in message
    assert mnist.url in message and "COURSE_DATA_DIR" in message and "was not used" in message
    with pytest.raises(data.DataHashError):
        data.fetch("mnist")  # the file itself is refused too, not only what load_mnist reads
    assert (tmp_path / "mnist.npz").read_bytes() == before  # neither used nor silently replaced


def test_altered_mnist_from_keras_is_refused(offline, data_dir, monkeypatch):
    """Arrays that did not come from a file of ours (Keras's download) are checked the same way."""
    import keras

    altered = _altered_mnist(data_dir)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: ((altered["x_train"], altered["y_train"]),
                                                                    (altered["x_test"], altered["y_test"])))
    with pytest.raises(data.DataHashError, match="keras.datasets.mnist.load_data"):
        data.load_mnist()


def test_unreadable_mnist_is_a_clear_error(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    (tmp_path / "mnist.npz").write_bytes(b"not a zip")
    with pytest.raises(data.DataError, match="could not be read as data set 'mnist'"):
        data.load_mnist()
    with np.load(data_dir / "mnist.npz") as f:
        np.savez(tmp_path / "mnist.npz", x_train=f["x_train"], y_train=f["y_train"])  # no test arrays
    with pytest.raises(data.DataError, match="x_test"):
        data.load_mnist()


def test_missing_file_and_no_network(offline):
    with pytest.raises(data.DataMissingError) as err:
        data.fetch("ex1data1")
    message = str(err.value)
    assert "ex1data1.txt" in message and "COURSE_DATA_DIR" in message
    assert "http://127.0.0.1:9/ex1data1.txt" in message


def test_missing_mnist_and_no_network(offline, monkeypatch, tmp_path):
    import keras

    def no_network(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", no_network)
    with pytest.raises(data.DataMissingError, match="COURSE_DATA_DIR"):
        data.load_mnist()


def test_hash_mismatch_in_data_dir_is_refused_and_kept(tmp_path, data_dir, monkeypatch):
    bad = tmp_path / "ex1data1.txt"
    bad.write_text((data_dir / "ex1data1.txt").read_text().replace("6.1101", "6.1102"))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    before = bad.read_bytes()
    with pytest.raises(data.DataHashError) as err:
        data.load_food_truck()
    message = str(err.value)
    assert data.REGISTRY["ex1data1"].sha256 in message and data.sha256(bad) in message
    assert "ex1data1.txt" in message
    assert bad.read_bytes() == before  # neither used nor silently replaced


def test_hash_mismatch_in_cache_is_refused_not_redownloaded(offline):
    cache = offline / "cache"
    cache.mkdir()
    (cache / "ex2data1.txt").write_text("1,2,0\n")
    with pytest.raises(data.DataHashError, match="expected SHA-256"):
        data.fetch("ex2data1")
    assert (cache / "ex2data1.txt").read_text() == "1,2,0\n"


def test_resolution_order_data_dir_then_cache_then_download(offline, data_dir, monkeypatch):
    cache = offline / "cache"
    cache.mkdir()
    shutil.copy(data_dir / "ex1data2.txt", cache / "ex1data2.txt")
    assert data.fetch("ex1data2") == cache / "ex1data2.txt"  # cache, with no data folder
    monkeypatch.setenv("COURSE_DATA_DIR", str(data_dir))
    assert data.fetch("ex1data2") == data_dir / "ex1data2.txt"  # the data folder comes first
    calls = []

    def fake_retrieve(url, known_hash, fname, path, progressbar):
        calls.append((url, known_hash))
        shutil.copy(data_dir / fname, path / fname)
        return str(path / fname)

    import pooch

    monkeypatch.delenv("COURSE_DATA_DIR")
    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    path = data.fetch("airline_passengers")  # neither: download, with the pinned hash
    d = data.REGISTRY["airline_passengers"]
    assert calls == [(d.url, f"sha256:{d.sha256}")] and path == cache / d.filename


def test_bad_download_is_a_hash_error(offline, monkeypatch):
    import pooch

    def corrupt_download(url, known_hash, fname, path, progressbar):
        raise ValueError("SHA256 hash of downloaded file (abc) does not match the known hash")

    monkeypatch.setattr(pooch, "retrieve", corrupt_download)
    with pytest.raises(data.DataHashError, match="was not used"):
        data.fetch("ex2data2")


def test_wrong_column_count_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "x.txt").write_text("1,2,3\n4,5,6\n")
    monkeypatch.setattr(data, "fetch", lambda name: tmp_path / "x.txt")
    with pytest.raises(data.DataError, match="expected 2 columns, found 3"):
        data.load_food_truck()
