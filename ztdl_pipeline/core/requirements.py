"""Optional dependencies fail at once with the command that installs them, not deep inside a step.

TensorFlow comes as a flavour extra (`cpu`: tensorflow-cpu, `gpu`: tensorflow[and-cuda]); other optional
packages come with the extras pyproject.toml defines. `require` imports a module or raises MissingDependency
naming the extra and the exact commands; `tensorflow_problem` says what is wrong with the installed
TensorFlow flavour for the device asked for (None when nothing is).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

# distribution name -> flavour extra that installs it (both provide the same `tensorflow` module)
TENSORFLOW_BUILDS = {"tensorflow-cpu": "cpu", "tensorflow": "gpu"}
FLAVOURS = ("cpu", "gpu")


class MissingDependency(RuntimeError):
    """An optional package this step needs is not installed (or the wrong TensorFlow build is).

    Not an ImportError on purpose: Dagster reports an ImportError at code-location load as a working-directory
    problem, which would point a newcomer the wrong way."""


def install_command(extra: str) -> str:
    """The Makefile target and the pip command that install `extra` in a checkout."""
    make = f"make install TF={extra}" if extra in FLAVOURS else f"make install EXTRAS={extra}"
    return f"{make}  (or: pip install -e '.[{extra}]')"


def _missing(error: ImportError, module: str) -> bool:
    """The import failed because `module` itself (or a package above it) is absent, not something it imports."""
    name = getattr(error, "name", None) or ""
    return isinstance(error, ModuleNotFoundError) and (module == name or module.startswith(name + "."))


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import `module`; if it is not installed, fail naming `purpose`, the extra and the install command."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        if not _missing(error, module):
            raise
        raise MissingDependency(f"{purpose} needs the Python package {module!r} (extra '{extra}'), which is not "
                                f"installed in {sys.prefix}\n  fix: {install_command(extra)}") from error


def nvidia_gpu_present(proc: str | Path = "/proc") -> bool:
    """An NVIDIA driver reports at least one GPU on this machine (read without importing TensorFlow)."""
    gpus = Path(proc) / "driver" / "nvidia" / "gpus"
    return gpus.is_dir() and any(gpus.iterdir())


def installed_tensorflow_builds() -> set[str]:
    """The TensorFlow distributions installed here: a subset of TENSORFLOW_BUILDS."""
    found = set()
    for dist in TENSORFLOW_BUILDS:
        try:
            importlib.metadata.distribution(dist)
            found.add(dist)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


def tensorflow_problem(builds: set[str], importable: bool, device: str = "auto", visible_gpus: int | None = None,
                       gpu_present: bool = False) -> str | None:
    """What is wrong with the TensorFlow installation for `device` ('auto', 'cpu', 'gpu'), with the fix.

    `builds`: installed_tensorflow_builds(); `importable`: the `tensorflow` module can be found;
    `visible_gpus`: GPUs TensorFlow sees (None before TensorFlow is imported); `gpu_present`: the machine has
    an NVIDIA GPU (nvidia_gpu_present)."""
    flavour = "gpu" if gpu_present else "cpu"
    if not importable or not builds:
        return (f"TensorFlow is not installed in {sys.prefix}: it comes with a flavour extra, cpu or gpu "
                f"(this machine {'has' if gpu_present else 'has no'} NVIDIA GPU)\n  fix: {install_command(flavour)}")
    if len(builds) > 1:
        return ("two TensorFlow builds are installed (tensorflow-cpu and tensorflow): they write the same files and "
                f"must never meet in one environment\n  fix: pip uninstall -y tensorflow tensorflow-cpu && "
                f"pip install -e '.[{flavour}]'")
    (build,) = builds
    if visible_gpus is None or visible_gpus > 0 or device == "cpu":
        return None  # not imported yet, a GPU in use, or the CPU asked for: any build runs on the CPU
    if build == "tensorflow-cpu":
        return None if device == "auto" else (
            f"TensorFlowCompute(device='gpu') but the CPU build (tensorflow-cpu) is installed\n"
            f"  fix: {install_command('gpu')}")
    if not gpu_present:
        return ("the GPU build of TensorFlow (tensorflow, extra 'gpu') is installed on a machine with no NVIDIA GPU\n"
                f"  fix: {install_command('cpu')}; or set the compute resource's device to 'cpu' to run the GPU "
                "build on the CPU")
    return ("the GPU build of TensorFlow sees no GPU although this machine has one (driver or CUDA libraries: run "
            "nvidia-smi)\n  fix: repair the driver, or set the compute resource's device to 'cpu'")


def tensorflow_advice(builds: set[str], device: str, gpu_present: bool) -> str | None:
    """A working but wasteful choice: the CPU build on a machine with an NVIDIA GPU."""
    if builds == {"tensorflow-cpu"} and device == "auto" and gpu_present:
        return f"this machine has an NVIDIA GPU but the CPU build of TensorFlow is installed: {install_command('gpu')}"
    return None


def check_tensorflow_installed(purpose: str) -> None:
    """Fail at once, without importing TensorFlow, when no usable TensorFlow build is installed."""
    try:
        importable = importlib.util.find_spec("tensorflow") is not None
    except ImportError:
        importable = False
    problem = tensorflow_problem(installed_tensorflow_builds(), importable, gpu_present=nvidia_gpu_present())
    if problem:
        raise MissingDependency(f"{purpose}: {problem}")


def require_tensorflow(purpose: str) -> ModuleType:
    """`import tensorflow`, or MissingDependency with the flavour to install."""
    try:
        return importlib.import_module("tensorflow")
    except ImportError as error:
        if not _missing(error, "tensorflow"):
            raise
        problem = tensorflow_problem(set(), False, gpu_present=nvidia_gpu_present())
        raise MissingDependency(f"{purpose}: {problem}") from error
