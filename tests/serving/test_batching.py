"""serving.store.Batcher: concurrent requests merge into one model call while the model is busy, each
caller gets exactly its own rows back, and one failing request does not fail the others."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from ztdl_pipeline.serving.store import Batcher


class GatedModel:
    """y = 2x + row index within the call; the first call waits until the test opens the gate."""

    def __init__(self):
        self.gate = threading.Event()
        self.calls: list[int] = []

    def __call__(self, arrays):
        if not self.calls:
            self.calls.append(len(arrays["x"]))
            self.gate.wait(10)
        else:
            self.calls.append(len(arrays["x"]))
        if (arrays["x"] < 0).any():
            raise ValueError("negative input")
        return {"y": arrays["x"] * 2.0, "n": np.full(len(arrays["x"]), len(arrays["x"]))}


def _wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_requests_queued_while_busy_run_as_one_call_and_get_their_own_rows():
    model = GatedModel()
    batcher = Batcher(model, max_rows=100)
    requests = [{"x": np.arange(k, k + (k % 3) + 1, dtype="float32")} for k in range(9)]  # 1-3 rows each
    with ThreadPoolExecutor(9) as pool:
        first = pool.submit(batcher.run, requests[0])
        _wait_for(lambda: len(model.calls) == 1)  # the model is busy with request 0
        rest = [pool.submit(batcher.run, r) for r in requests[1:]]
        _wait_for(lambda: len(batcher._pending) == 8)
        model.gate.set()
        answers = [first.result(), *[f.result() for f in rest]]
    assert model.calls == [1, sum(len(r["x"]) for r in requests[1:])]  # two calls for nine requests
    assert (batcher.requests, batcher.batches) == (9, 2)
    for request, answer in zip(requests, answers):
        np.testing.assert_array_equal(answer["y"], request["x"] * 2)
    assert set(answers[1]["n"]) == {model.calls[1]}  # they really shared one call


def test_max_rows_splits_the_queue():
    model = GatedModel()
    batcher = Batcher(model, max_rows=4)
    with ThreadPoolExecutor(7) as pool:
        first = pool.submit(batcher.run, {"x": np.zeros(1, "float32")})
        _wait_for(lambda: len(model.calls) == 1)
        rest = [pool.submit(batcher.run, {"x": np.full(2, k, "float32")}) for k in range(6)]
        _wait_for(lambda: len(batcher._pending) == 6)
        model.gate.set()
        results = [first.result(), *[f.result() for f in rest]]
    assert all(c <= 4 for c in model.calls[1:]) and sum(model.calls[1:]) == 12
    for k, result in enumerate(results[1:]):
        np.testing.assert_array_equal(result["y"], np.full(2, 2.0 * k))


def test_a_failing_request_fails_alone():
    model = GatedModel()
    batcher = Batcher(model)
    with ThreadPoolExecutor(5) as pool:
        first = pool.submit(batcher.run, {"x": np.ones(1, "float32")})
        _wait_for(lambda: len(model.calls) == 1)
        good = [pool.submit(batcher.run, {"x": np.full(1, k, "float32")}) for k in range(3)]
        bad = pool.submit(batcher.run, {"x": np.full(1, -1.0, "float32")})
        _wait_for(lambda: len(batcher._pending) == 4)
        model.gate.set()
        assert first.result()["y"].tolist() == [2.0]
        assert [f.result()["y"].tolist() for f in good] == [[0.0], [2.0], [4.0]]
        with pytest.raises(ValueError, match="negative"):
            bad.result()


def test_different_example_shapes_are_not_merged():
    calls = []

    def model(arrays):
        calls.append(arrays["x"].shape)
        return {"y": arrays["x"].sum(axis=1)}

    batcher = Batcher(model)
    np.testing.assert_array_equal(batcher.run({"x": np.ones((2, 3))})["y"], [3.0, 3.0])
    np.testing.assert_array_equal(batcher.run({"x": np.ones((1, 5))})["y"], [5.0])
    assert calls == [(2, 3), (1, 5)]
