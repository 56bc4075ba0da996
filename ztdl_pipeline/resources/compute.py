"""TensorFlowCompute: where and how Keras trains (device, memory, precision, XLA, replicas, seeds).

TensorFlow is imported only when a training asset calls `setup()`, never when the code location
loads. Device configuration is process-wide in TensorFlow, so `setup()` applies it once per process
and later calls with a different configuration fail loudly instead of silently running elsewhere.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any, Literal

import dagster as dg

from ztdl_pipeline.core import requirements

_APPLIED: dict[str, Any] | None = None
_STRATEGY: Any = None  # one distribution strategy per process: a second one breaks the first's all-reduce


class TensorFlowCompute(dg.ConfigurableResource):
    device: Literal["auto", "cpu", "gpu"] = "auto"
    memory_growth: bool = True  # allocate GPU memory as needed instead of all at once
    mixed_precision: bool = False  # float16 compute on NVIDIA GPUs; ignored on CPU
    xla: Literal["auto", "on", "off"] = "auto"  # Keras jit_compile
    seed: int = 42
    deterministic: bool = True  # tf.config.experimental.enable_op_determinism
    keras_backend: Literal["tensorflow", "jax", "torch"] = "tensorflow"  # export always needs TensorFlow
    logical_cpus: int = 1  # >1 splits the CPU into logical devices (tests MirroredStrategy without GPUs)

    def _wanted(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("device", "memory_growth", "mixed_precision", "xla",
                                              "deterministic", "keras_backend", "logical_cpus")}

    def setup(self) -> dict[str, Any]:
        """Configure TensorFlow/Keras for this process (idempotent); return a description for metadata."""
        global _APPLIED
        wanted = self._wanted()
        if _APPLIED is not None:
            if _APPLIED["config"] != wanted:
                raise RuntimeError(f"TensorFlow was already configured in this process with {_APPLIED['config']}; "
                                   f"cannot switch to {wanted}. Run with a fresh process.")
            self.seed_everything()
            return _APPLIED["description"]
        if "keras" in sys.modules:
            import keras

            if keras.backend.backend() != self.keras_backend:
                raise RuntimeError(f"Keras was imported with backend {keras.backend.backend()!r} before "
                                   f"TensorFlowCompute could select {self.keras_backend!r}; set KERAS_BACKEND")
        else:
            os.environ["KERAS_BACKEND"] = self.keras_backend
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        tf = requirements.require_tensorflow("training (TensorFlowCompute)")

        gpus = tf.config.list_physical_devices("GPU")
        builds, gpu_present = requirements.installed_tensorflow_builds(), requirements.nvidia_gpu_present()
        problem = requirements.tensorflow_problem(builds, True, self.device, len(gpus), gpu_present)
        if problem:
            raise requirements.MissingDependency(problem)
        advice = requirements.tensorflow_advice(builds, self.device, gpu_present)
        if advice:
            warnings.warn(advice, RuntimeWarning, stacklevel=2)
        if self.device == "cpu" and gpus:
            tf.config.set_visible_devices([], "GPU")
            gpus = []
        for gpu in gpus:
            if self.memory_growth:
                tf.config.experimental.set_memory_growth(gpu, True)
        if self.logical_cpus > 1:
            cpu = tf.config.list_physical_devices("CPU")[0]
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(self.logical_cpus)])
        import keras

        mixed = bool(self.mixed_precision and gpus)
        keras.config.set_dtype_policy("mixed_float16" if mixed else "float32")
        if self.deterministic:
            tf.config.experimental.enable_op_determinism()
        description = {
            "keras_backend": keras.backend.backend(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "gpus": [d.name for d in gpus],
            "replicas": self.strategy().num_replicas_in_sync,
            "mixed_precision": mixed,
            "xla": self.xla,
        }
        _APPLIED = {"config": wanted, "description": description}
        self.seed_everything()
        return description

    def seed_everything(self, seed: int | None = None) -> None:
        """Python, NumPy and backend seeds: the same config gives the same model."""
        import keras

        keras.utils.set_random_seed(self.seed if seed is None else seed)

    def strategy(self):
        """MirroredStrategy over several GPUs (or logical CPUs); the default strategy otherwise.

        Created once per process and reused: every model trained in the process shares it.
        """
        global _STRATEGY
        if _STRATEGY is not None:
            return _STRATEGY
        import tensorflow as tf

        gpus = tf.config.list_logical_devices("GPU")
        cpus = tf.config.list_logical_devices("CPU")
        if len(gpus) > 1:
            _STRATEGY = tf.distribute.MirroredStrategy([d.name for d in gpus])
        elif not gpus and len(cpus) > 1:
            _STRATEGY = tf.distribute.MirroredStrategy([d.name for d in cpus])
        else:
            _STRATEGY = tf.distribute.get_strategy()
        return _STRATEGY

    @property
    def jit_compile(self) -> bool | str:
        return {"auto": "auto", "on": True, "off": False}[self.xla]
