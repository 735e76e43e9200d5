"""Data sets: contents against their definitions, seeded splits, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from saddlepoint import data


def _rows_sorted(X):
    return X[np.lexsort(X.T[::-1])]


def test_digits_are_sklearns_bundled_images_scaled_to_unit_interval():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    ref = sklearn_datasets.load_digits()
    d = data.digits(val_fraction=0.25, seed=1)
    assert d.n_features == 64 and d.n_classes == 10
    assert d.n_train + d.n_val == 1797
    X = np.concatenate([d.X_train, d.X_val])
    y = np.concatenate([d.y_train, d.y_val])
    assert X.min() == 0.0 and X.max() == 1.0
    # Same multiset of (image, label) rows as sklearn's data / 16.
    ours = _rows_sorted(np.column_stack([X, y]))
    theirs = _rows_sorted(np.column_stack([ref.data / 16.0, ref.target]))
    np.testing.assert_array_equal(ours, theirs)
    # Stratified: every class on both sides, about a quarter of each in validation.
    for label in range(10):
        count = np.sum(ref.target == label)
        assert np.sum(d.y_val == label) == round(0.25 * count)


def test_digits_subsets():
    pytest.importorskip("sklearn")
    d = data.digits(n_classes=3, n_samples=120, seed=0)
    assert d.n_train + d.n_val == 120
    assert set(np.unique(d.y_train)) == {0, 1, 2}
    assert d.n_classes == 3


def test_split_is_seeded_disjoint_and_complete():
    rng = np.random.default_rng(0)
    X = np.arange(200, dtype=float).reshape(100, 2)
    y = rng.integers(0, 4, size=100)
    a = data.split(X, y, val_fraction=0.3, seed=5)
    b = data.split(X, y, val_fraction=0.3, seed=5)
    c = data.split(X, y, val_fraction=0.3, seed=6)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_val, b.y_val)
    assert not np.array_equal(a.X_val, c.X_val)
    ids_train, ids_val = a.X_train[:, 0] / 2, a.X_val[:, 0] / 2
    assert set(ids_train).isdisjoint(ids_val)
    assert sorted(np.concatenate([ids_train, ids_val])) == list(range(100))
    # Labels travel with their rows.
    np.testing.assert_array_equal(a.y_train, y[ids_train.astype(int)])
    np.testing.assert_array_equal(a.y_val, y[ids_val.astype(int)])
    unstratified = data.split(X, y, val_fraction=0.3, seed=5, stratify=False)
    assert unstratified.n_val == 30
    assert data.split(X, y, val_fraction=0.0).n_val == 0


def test_spirals_follow_their_definition_without_noise():
    d = data.spirals(n=90, noise=0.0, seed=3, n_classes=3, turns=1.25, val_fraction=0.0)
    X, y = d.X_train, d.y_train
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.all((r >= 0.05) & (r <= 1.0))
    # theta = 2 pi turns r + 2 pi k / K, so the angle minus the arm's offset is 2 pi turns r.
    expected = 2 * np.pi * 1.25 * r + 2 * np.pi * y / 3
    diff = np.angle(np.exp(1j * (np.arctan2(X[:, 1], X[:, 0]) - expected)))
    np.testing.assert_allclose(diff, 0.0, atol=1e-12)
    assert np.bincount(y).tolist() == [30, 30, 30]


def test_spirals_are_seeded_and_noisy():
    a, b = data.spirals(200, 0.5, seed=1), data.spirals(200, 0.5, seed=1)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, data.spirals(200, 0.5, seed=2).X_train)
    assert a.n_train + a.n_val == 200 and a.n_classes == 2


def test_blobs_without_noise_sit_on_one_center_per_class():
    d = data.blobs(60, centers=4, n_features=3, cluster_std=0.0, seed=2, val_fraction=0.0)
    for label in range(4):
        pts = d.X_train[d.y_train == label]
        assert pts.shape == (15, 3)
        np.testing.assert_array_equal(pts, np.broadcast_to(pts[0], pts.shape))
        assert np.all((pts >= -5) & (pts <= 5))
    noisy = data.blobs(3000, centers=2, cluster_std=2.0, seed=0, val_fraction=0.0)
    spread = noisy.X_train[noisy.y_train == 0].std(axis=0)
    np.testing.assert_allclose(spread, 2.0, rtol=0.1)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: data.spirals(n=1), "n: expected an int >= 2"),
        (lambda: data.spirals(noise=-1.0), "noise: expected a finite value >= 0"),
        (lambda: data.spirals(val_fraction=1.0), r"val_fraction: expected a number in \[0, 1\)"),
        (lambda: data.blobs(centers=1), "centers: expected an int >= 2"),
        (lambda: data.blobs(cluster_std=float("nan")), "cluster_std: expected a finite"),
        (lambda: data.blobs(center_box=(1, -1)), "center_box: expected finite"),
        (lambda: data.digits(n_classes=11), r"n_classes: expected an int in \[2, 10\]"),
        (lambda: data.split(np.ones(3), np.ones(3, int)), "X: expected a 2-D array"),
        (lambda: data.split(np.ones((3, 2)), np.ones(2, int)), "y: expected 3 labels"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
