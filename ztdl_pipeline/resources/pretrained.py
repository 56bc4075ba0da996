"""PretrainedModels: Keras' Xception with its ImageNet weights, from a local file, a cache or the canonical URL.

The weight files are Keras' own (`xception_weights_tf_dim_ordering_tf_kernels.h5` with the 1000-class top,
`..._notop.h5` without), checked against the md5 Keras pins. Where they come from, in order: the path in the
config; the storage root's cache ($ZTDL_DATA_DIR/cache/keras_models); the data mirror's keras_models/;
Keras' own cache (~/.keras/models); a download into the storage root's cache (when allowed). If none
works the resource fails with a message naming every place it looked — unless random weights were chosen:
`weights="random"` explicitly, or `weights="auto"` under the fast profile when no file is at hand. Models
built on random weights say so in `info["weights"]`, and every report built from them says it loudly.

TensorFlow/Keras are imported only when a model is built, never when the code location loads.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Literal

import dagster as dg

from ztdl_pipeline import settings
from ztdl_pipeline.core import atomic
from ztdl_pipeline.core.errors import DataError
from ztdl_pipeline.core.profile import resolve
from ztdl_pipeline.core.progress import copy_stream, response_size

_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/xception/"
WEIGHT_FILES = {  # include_top -> (file name, md5 Keras pins in keras/src/applications/xception.py)
    True: ("xception_weights_tf_dim_ordering_tf_kernels.h5", "0a58e3b7378bc2990ea3b43d5981f1f6"),
    False: ("xception_weights_tf_dim_ordering_tf_kernels_notop.h5", "b0042744bf5b25fce3cb969f33bebb97"),
}
# the fast profile may stand in random weights when no weight file is at hand (core/profile.py applies it)
RANDOM_FALLBACK = {"random_without_file": False}
FAST = {"random_without_file": True}
MIN_SIZE = 71  # Xception's smallest input


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class PretrainedModels(dg.ConfigurableResource):
    weights: Literal["auto", "imagenet", "random"] = "auto"  # auto: imagenet; random only in the fast profile
    weights_path: str | None = None  # local copy of the with-top .h5
    notop_weights_path: str | None = None  # local copy of the no-top .h5
    cache_dir: str | None = None  # default $ZTDL_DATA_DIR/cache/keras_models (settings.local_dir())
    allow_download: bool = True
    verify_md5: bool = True
    timeout_seconds: float = 120.0
    seed: int = 0  # random weights are drawn from this seed, so they are reproducible

    def _cache(self) -> Path:
        return Path(self.cache_dir) if self.cache_dir else settings.local_dir() / "cache" / "keras_models"

    def _candidates(self, include_top: bool) -> list[Path]:
        name = WEIGHT_FILES[include_top][0]
        explicit = self.weights_path if include_top else self.notop_weights_path
        places = [Path(explicit).expanduser()] if explicit else []
        places.append(self._cache() / name)
        mirror = settings.mirror_dir()
        if mirror is not None:
            places.append(mirror / "keras_models" / name)
        places.append(Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "models" / name)
        return places

    def _check(self, path: Path, include_top: bool) -> Path:
        name, md5 = WEIGHT_FILES[include_top]
        if self.verify_md5 and _md5(path) != md5:
            raise DataError(path, f"is not Keras' {name} (md5 differs from {md5})",
                            f"download it again from {_BASE}{name}, or set verify_md5=false for your own "
                            "weights of the same architecture")
        return path

    def local_weights(self, include_top: bool) -> Path | None:
        """The first existing weight file (md5 checked), or None."""
        for path in self._candidates(include_top):
            if path.is_file():
                return self._check(path, include_top)
        explicit = self.weights_path if include_top else self.notop_weights_path
        if explicit:
            raise DataError(explicit, "the configured Xception weights file does not exist",
                            "fix weights_path / notop_weights_path in the pretrained resource config")
        return None

    def _download(self, include_top: bool) -> Path:
        name, _ = WEIGHT_FILES[include_top]
        target = self._cache() / name
        try:
            with atomic.atomic_path(target) as tmp:
                with urllib.request.urlopen(_BASE + name, timeout=self.timeout_seconds) as response, \
                        open(tmp, "wb") as handle:
                    copy_stream(response, handle, f"downloading {name}", dg.get_dagster_logger().info,
                                response_size(response))
                self._check(tmp, include_top)
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise self._missing(include_top, f"download from {_BASE}{name} failed ({exc})") from None
        return target

    def _missing(self, include_top: bool, why: str) -> DataError:
        name, _ = WEIGHT_FILES[include_top]
        looked = ", ".join(str(p) for p in self._candidates(include_top))
        return DataError(name, f"Xception ImageNet weights ({'with' if include_top else 'without'} top) are not "
                               f"available: {why}; looked in {looked}",
                         f"download {_BASE}{name} and set the pretrained resource's "
                         f"{'weights_path' if include_top else 'notop_weights_path'} to it (or copy it to "
                         f"{self._cache()}), or choose random weights explicitly (pretrained weights='random', "
                         "or the fast profile: ZTDL_PROFILE=fast) to exercise the code path only")

    def resolve(self, include_top: bool, profile: str | None = None) -> dict[str, Any]:
        """{"weights": "imagenet"|"random", "path": str|None, "origin": ...}; raises DataError when ImageNet
        weights are required and cannot be found."""
        if self.weights == "random":
            return {"weights": "random", "path": None, "origin": "config weights=random", "seed": self.seed}
        local = self.local_weights(include_top)
        if local is not None:
            return {"weights": "imagenet", "path": str(local), "origin": "local file"}
        rule = resolve(settings.resolve_profile(profile), RANDOM_FALLBACK, FAST)
        if self.weights == "auto" and rule.values["random_without_file"]:
            return {"weights": "random", "path": None, "seed": self.seed,
                    "origin": f"{rule.profile} profile, no local weight file (weights=auto)"}
        if not self.allow_download:
            raise self._missing(include_top, "no local copy and downloads are disabled")
        path = self._download(include_top)
        return {"weights": "imagenet", "path": str(path), "origin": "download"}

    def xception(self, *, include_top: bool = False, input_size: int = 299, pooling: str | None = "avg",
                 profile: str | None = None):
        """(Keras Xception model, info). Without top: any input_size ≥ 71 and `pooling` ('avg' gives the
        2048-d bottleneck vectors); with top: 299×299 and the 1000 ImageNet classes."""
        import keras

        if include_top and input_size != 299:
            raise ValueError(f"Xception with its top takes 299×299 images, not {input_size}")
        if input_size < MIN_SIZE:
            raise ValueError(f"Xception needs images of at least {MIN_SIZE}×{MIN_SIZE}, got {input_size}")
        info = self.resolve(include_top, profile)
        if info["weights"] == "random":
            keras.utils.set_random_seed(self.seed)  # the same random network every time
        model = keras.applications.Xception(
            include_top=include_top, weights=None, input_shape=(input_size, input_size, 3),
            pooling=None if include_top else pooling)
        if info["path"]:
            model.load_weights(info["path"])
        info.update(include_top=include_top, input_size=input_size, pooling=pooling,
                    params=int(model.count_params()))
        return model, info
