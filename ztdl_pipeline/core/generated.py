"""Datasets the book generates instead of reading (scikit-learn's toy generators), as plain frames."""

from __future__ import annotations

import pandas as pd


def circles(n_samples: int, noise: float, factor: float, random_state: int) -> pd.DataFrame:
    """make_circles as ch1 calls it: two concentric rings, label y."""
    from sklearn.datasets import make_circles

    x, y = make_circles(n_samples=n_samples, noise=noise, factor=factor, random_state=random_state)
    return pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "y": y})


def moons(n_samples: int, noise: float, random_state: int) -> pd.DataFrame:
    """make_moons as ch4 calls it: two interleaved half circles, label y."""
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=n_samples, noise=noise, random_state=random_state)
    return pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "y": y})


def blobs(n_samples: int, centers: int, random_state: int) -> pd.DataFrame:
    """make_blobs as ch1 exercise 4 calls it: two Gaussian blobs, label y."""
    from sklearn.datasets import make_blobs

    x, y = make_blobs(n_samples=n_samples, centers=centers, random_state=random_state)
    return pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "y": y})
