"""TensorFlowCompute configures TensorFlow once per process; each case runs in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def _run(code: str) -> dict:
    script = textwrap.dedent(code)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180,
                          env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_logical_cpus_give_a_two_replica_mirrored_strategy():
    out = _run("""
        import json
        from ztdl_pipeline.resources.compute import TensorFlowCompute
        compute = TensorFlowCompute(device="cpu", logical_cpus=2)
        description = compute.setup()
        strategy = compute.strategy()
        import keras, numpy as np
        with strategy.scope():
            model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
            model.compile("sgd", "mse")
        history = model.fit(np.ones((64, 3), "float32"), np.ones((64,), "float32"), epochs=2, batch_size=16,
                            verbose=0)
        # a second model in the same process (the next asset of a run) trains under the same strategy
        second = compute.strategy()
        with second.scope():
            other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(1)])
            other.compile("sgd", "mse")
        other.fit(np.ones((64, 3), "float32"), np.ones((64,), "float32"), epochs=1, batch_size=16, verbose=0)
        print(json.dumps({"replicas": description["replicas"], "strategy": type(strategy).__name__,
                          "same": second is strategy, "losses": history.history["loss"]}))
    """)
    assert out["replicas"] == 2
    assert out["strategy"] == "MirroredStrategy"
    assert out["same"]
    assert out["losses"][1] < out["losses"][0]


def test_gpu_request_without_gpu_fails_clearly_and_reconfiguring_is_refused():
    out = _run("""
        import json
        from ztdl_pipeline.resources.compute import TensorFlowCompute
        errors = {}
        try:
            TensorFlowCompute(device="gpu").setup()
        except RuntimeError as exc:  # requirements.MissingDependency: the wrong build, with the command to fix it
            errors["gpu"] = str(exc)
        first = TensorFlowCompute(device="cpu").setup()
        again = TensorFlowCompute(device="cpu").setup()
        try:
            TensorFlowCompute(device="cpu", xla="off").setup()
        except RuntimeError as exc:
            errors["switch"] = str(exc)
        import keras
        from tensorflow.python.framework import config as tf_config
        print(json.dumps({"errors": errors, "same": first == again, "gpus": first["gpus"],
                          "policy": keras.config.dtype_policy().name,
                          "deterministic": tf_config.is_op_determinism_enabled()}))
    """)
    assert "(device='gpu') but the CPU build (tensorflow-cpu) is installed" in out["errors"]["gpu"]
    assert "make install TF=gpu  (or: pip install -e '.[gpu]')" in out["errors"]["gpu"]
    assert "already configured" in out["errors"]["switch"]
    assert out["same"] and out["gpus"] == []
    assert out["policy"] == "float32"  # mixed precision is never turned on without a GPU
    assert out["deterministic"] is True


def test_same_seed_gives_the_same_weights():
    out = _run("""
        import json
        from ztdl_pipeline.resources.compute import TensorFlowCompute
        compute = TensorFlowCompute(device="cpu", seed=7)
        compute.setup()
        import keras
        def weights():
            compute.seed_everything()
            return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]).get_weights()[0].tolist()
        print(json.dumps({"a": weights(), "b": weights()}))
    """)
    assert out["a"] == out["b"]
