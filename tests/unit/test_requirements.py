"""A missing or wrong TensorFlow build, or a missing optional package, fails at once with the command that installs
it (issue 18 item 2). The rules are checked directly; the real entry points are run in subprocesses whose
`sitecustomize` makes `import tensorflow` (or `dagster_postgres`) fail as if the package were not installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ztdl_pipeline.core.requirements import (
    MissingDependency,
    install_command,
    nvidia_gpu_present,
    require,
    tensorflow_advice,
    tensorflow_problem,
)

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CPU_FIX = "make install TF=cpu  (or: pip install -e '.[cpu]')"
GPU_FIX = "make install TF=gpu  (or: pip install -e '.[gpu]')"
CPU_BUILD, GPU_BUILD = {"tensorflow-cpu"}, {"tensorflow"}


def test_every_extra_named_in_an_install_command_is_defined_in_pyproject():
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {"cpu", "gpu", "deploy"} <= set(extras)
    assert install_command("deploy") == "make install EXTRAS=deploy  (or: pip install -e '.[deploy]')"
    assert install_command("cpu") == CPU_FIX


@pytest.mark.parametrize("builds, importable, device, gpus, gpu_present, expected", [
    (set(), False, "auto", None, False, ["TensorFlow is not installed", CPU_FIX]),
    (set(), False, "auto", None, True, ["TensorFlow is not installed", "this machine has NVIDIA GPU", GPU_FIX]),
    (CPU_BUILD, False, "auto", None, False, ["TensorFlow is not installed", CPU_FIX]),  # metadata left, module gone
    (CPU_BUILD | GPU_BUILD, True, "auto", None, False,
     ["two TensorFlow builds", "pip uninstall -y tensorflow tensorflow-cpu && pip install -e '.[cpu]'"]),
    (CPU_BUILD, True, "gpu", 0, True, ["(device='gpu') but the CPU build (tensorflow-cpu) is installed", GPU_FIX]),
    (GPU_BUILD, True, "auto", 0, False, ["GPU build of TensorFlow", "no NVIDIA GPU", CPU_FIX, "device to 'cpu'"]),
    (GPU_BUILD, True, "gpu", 0, True, ["sees no GPU although this machine has one", "nvidia-smi"]),
])
def test_a_wrong_installation_is_named_with_its_fix(builds, importable, device, gpus, gpu_present, expected):
    problem = tensorflow_problem(builds, importable, device, gpus, gpu_present)
    assert problem is not None
    for part in expected:
        assert part in problem


@pytest.mark.parametrize("builds, device, gpus, gpu_present", [
    (CPU_BUILD, "auto", None, False),  # before TensorFlow is imported: only missing or doubled builds are known
    (CPU_BUILD, "auto", 0, False),
    (CPU_BUILD, "cpu", 0, True),
    (GPU_BUILD, "cpu", 0, False),  # the GPU build asked to run on the CPU: allowed
    (GPU_BUILD, "auto", 1, True),
    (GPU_BUILD, "gpu", 2, True),
])
def test_a_working_installation_passes(builds, device, gpus, gpu_present):
    assert tensorflow_problem(builds, True, device, gpus, gpu_present) is None


def test_the_cpu_build_on_a_gpu_machine_is_advised_not_refused():
    assert GPU_FIX in tensorflow_advice(CPU_BUILD, "auto", gpu_present=True)
    assert tensorflow_advice(CPU_BUILD, "auto", gpu_present=False) is None
    assert tensorflow_advice(GPU_BUILD, "auto", gpu_present=True) is None


def test_nvidia_gpus_are_read_from_the_drivers_proc_folder(tmp_path):
    assert not nvidia_gpu_present(tmp_path)
    (tmp_path / "driver" / "nvidia" / "gpus").mkdir(parents=True)
    assert not nvidia_gpu_present(tmp_path)
    (tmp_path / "driver" / "nvidia" / "gpus" / "0000:00:1e.0").mkdir()
    assert nvidia_gpu_present(tmp_path)


def test_require_names_the_extra_but_never_hides_a_broken_package(tmp_path, monkeypatch):
    with pytest.raises(MissingDependency) as missing:
        require("ztdl_no_such_package.sub", "deploy", "the PostgreSQL instance")
    assert str(missing.value).startswith("the PostgreSQL instance needs the Python package 'ztdl_no_such_package.sub'")
    assert install_command("deploy") in str(missing.value)
    # an installed package that fails on an import of its own is a different problem: its error is kept
    (tmp_path / "ztdl_broken_package.py").write_text("import ztdl_its_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as broken:
        require("ztdl_broken_package", "deploy", "x")
    assert not isinstance(broken.value, MissingDependency) and broken.value.name == "ztdl_its_missing_dependency"


# -- the real entry points, with a package made unimportable -----------------------------------------------------

BLOCKER = """import sys
class _NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, _NotInstalled())
"""


def _without(tmp_path: Path, *packages: str, **env: str) -> dict:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER.format(blocked=set(packages)))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ZTDL_", "DAGSTER_"))}
    return {**base, "PYTHONPATH": os.pathsep.join([str(site), str(REPO)]), "DAGSTER_HOME": str(tmp_path / "home"),
            "ZTDL_DATA_DIR": str(tmp_path / "data"), "ZTDL_PROFILE": "fast", **env}


def _run(command: list[str], env: dict) -> subprocess.CompletedProcess:
    (Path(env["DAGSTER_HOME"])).mkdir(exist_ok=True)
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_without_tensorflow_every_entry_point_fails_at_once_with_the_install_command(tmp_path):
    env = _without(tmp_path, "tensorflow")
    run = _run([sys.executable, "-m", "ztdl_pipeline.run", "--select", 'key:"raw/iris_raw"'], env)
    assert run.returncode == 2, run.stderr[-3000:]
    assert "run: the code location ztdl_pipeline: TensorFlow is not installed" in run.stderr
    assert CPU_FIX in run.stderr and "Traceback" not in run.stderr

    # the documented CLI: the code location does not load, so no run starts
    cli = _run([str(BIN / "dagster"), "asset", "materialize", "-m", "ztdl_pipeline.definitions", "--select",
                'key:"raw/iris_raw"'], env)
    assert cli.returncode != 0 and CPU_FIX in cli.stdout + cli.stderr
    assert "RUN_START" not in cli.stdout + cli.stderr and not (tmp_path / "data").exists()

    serve = _run([str(BIN / "ztdl-serve"), "--exports", str(tmp_path / "exports")], env)
    assert serve.returncode == 2 and serve.stderr.startswith("ztdl-serve: serving the exports: TensorFlow is not installed")
    assert CPU_FIX in serve.stderr

    setup = _run([sys.executable, "-c", "from ztdl_pipeline.resources.compute import TensorFlowCompute\n"
                  "TensorFlowCompute().setup()"], env)
    assert setup.returncode == 1 and "MissingDependency: training (TensorFlowCompute): TensorFlow is not" in setup.stderr
    assert CPU_FIX in setup.stderr


def test_the_postgresql_instance_without_the_deploy_extra_fails_with_its_install_command(tmp_path):
    env = _without(tmp_path, "dagster_postgres", ZTDL_POSTGRES_URL="postgresql+psycopg2://u:p@127.0.0.1:9/none")
    sweep = _run([sys.executable, "-m", "ztdl_pipeline.recovery"], env)
    assert sweep.returncode == 2, sweep.stderr[-3000:]
    assert "recovery: the PostgreSQL instance ($ZTDL_POSTGRES_URL is set) needs the Python package " \
           "'dagster_postgres' (extra 'deploy')" in sweep.stderr
    assert "make install EXTRAS=deploy  (or: pip install -e '.[deploy]')" in sweep.stderr
