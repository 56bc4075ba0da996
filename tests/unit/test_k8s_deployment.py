"""ZTDL_EXECUTOR=k8s without a cluster: the Kubernetes Jobs that dagster-k8s's k8s_job_executor creates for steps of
this code location, built by its own code (K8sStepHandler.launch_step) from deploy/k8s/values.yaml. No cluster runs
here, so the one call that would reach the Kubernetes API (create_namespaced_job) is caught and its body read.

What the Helm chart adds is reproduced from its templates: the run launcher the chart configures (K8sRunLauncher,
its DAGSTER_HOME, instance ConfigMap and PostgreSQL secret) and the container context a user deployment hands its
runs (`includeConfigInLaunchedRuns`: image, environment, volumes; template dagsterUserDeployments.k8sContainerContext
of charts/dagster-user-deployments). The Dockerfile is checked against the files and extras it names.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

pytest.importorskip("dagster_k8s", reason="dagster-k8s is not installed (pip install -e '.[k8s]')")

REPO = Path(__file__).resolve().parents[2]
VALUES = REPO / "deploy" / "k8s" / "values.yaml"
DOCKERFILE = REPO / "deploy" / "k8s" / "Dockerfile"
RELEASE = NAMESPACE = "ztdl"
FULLNAME = f"{RELEASE}-dagster"  # the chart's dagster.fullname for a release whose name lacks "dagster"
DAGSTER_HOME = "/opt/dagster/dagster_home"  # the chart's dagsterHome
KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: none, user: {token: never-sent}}]
contexts: [{name: none, context: {cluster: none, user: none, namespace: ztdl}}]
current-context: none
"""


def _deployment() -> dict:
    values = yaml.safe_load(VALUES.read_text())
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    return deployment


def _container_context(deployment: dict) -> dict:
    """The chart's container context of a user deployment (the k8s block it passes `dagster api grpc`)."""
    k8s = {"image_pull_policy": deployment["image"]["pullPolicy"],
           "env_config_maps": [f"{FULLNAME}-{deployment['name']}-user-env",
                               *(m["name"] for m in deployment.get("envConfigMaps", []) if "name" in m)],
           "namespace": NAMESPACE, "service_account_name": f"{FULLNAME}-user-deployments"}
    for key, field in (("volumeMounts", "volume_mounts"), ("volumes", "volumes"), ("labels", "labels"),
                       ("resources", "resources")):
        if deployment.get(key):
            k8s[field] = deployment[key]
    if isinstance(deployment.get("env"), list):
        k8s["env"] = deployment["env"]
    return {"k8s": k8s}


@pytest.fixture(scope="module")
def step_jobs(tmp_path_factory) -> dict:
    """{step key: the V1Job body the k8s executor sends} for a training step and a non-training step."""
    import dagster as dg
    import kubernetes
    from dagster._config import process_config, resolve_to_config_type
    from dagster._core.definitions.reconstruct import ReconstructableRepository
    from dagster._core.execution.api import create_execution_plan
    from dagster._core.execution.context.system import PlanData, PlanOrchestrationContext
    from dagster._core.execution.context_creation_job import create_context_free_log_manager
    from dagster._core.execution.retries import RetryMode
    from dagster._core.executor.init import InitExecutorContext
    from dagster._core.executor.step_delegating import StepHandlerContext
    from dagster._grpc.types import ExecuteStepArgs

    from ztdl_pipeline import executors

    kubeconfig = tmp_path_factory.mktemp("k8s") / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    deployment = _deployment()
    image = f"{deployment['image']['repository']}:{deployment['image']['tag']}"
    launcher = {"module": "dagster_k8s", "class": "K8sRunLauncher",
                "config": {"load_incluster_config": False, "kubeconfig_file": str(kubeconfig),
                           "job_namespace": NAMESPACE, "service_account_name": FULLNAME,
                           "dagster_home": DAGSTER_HOME, "instance_config_map": f"{FULLNAME}-instance",
                           "postgres_password_secret": f"{FULLNAME}-postgresql-secret",
                           "env_config_maps": [f"{FULLNAME}-pipeline-env"]}}
    # the executor ZTDL_EXECUTOR=k8s picks, with the config a run gives it (none: it inherits the launcher's)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZTDL_EXECUTOR", "k8s")
        executor_def = executors.executor()
    # the code location as the chart's code server describes it: its image and container context
    job = ReconstructableRepository.for_module(
        "ztdl_pipeline.definitions", "defs", working_directory=str(REPO), container_image=image,
        container_context=_container_context(deployment)).get_reconstructable_job("tabular_job")
    origin = job.get_python_origin()
    bodies = {}
    with dg.instance_for_test(overrides={"run_launcher": launcher}) as instance:
        config = process_config(resolve_to_config_type(executor_def.config_schema.config_type), {})
        assert config.success, config.errors
        executor = executor_def.executor_creation_fn(InitExecutorContext(
            job=job, executor_def=executor_def, executor_config=config.value, instance=instance))
        run = instance.create_run_for_job(job.get_definition(), job_code_origin=origin)
        plan = create_execution_plan(job)
        plan_context = PlanOrchestrationContext(
            plan_data=PlanData(job=job, dagster_run=run, instance=instance, execution_plan=plan,
                               raise_on_error=True, retry_mode=RetryMode.DISABLED),
            log_manager=create_context_free_log_manager(instance, run), executor=executor, output_capture=None)
        handler = executor._step_handler

        class KubernetesApi:  # the one call that would leave this machine: keep the JSON it would send
            def create_namespaced_job(self, body, namespace, **_):
                sent = kubernetes.client.ApiClient().sanitize_for_serialization(body)
                bodies[sent["metadata"]["labels"]["dagster/op"]] = (namespace, sent)

        handler._api_client.batch_api = KubernetesApi()
        for step in ("models__iris_softmax_model", "raw__iris_raw"):
            args = ExecuteStepArgs(job_origin=origin, run_id=run.run_id, step_keys_to_execute=[step],
                                   instance_ref=instance.get_ref(), print_serialized_events=False)
            list(handler.launch_step(StepHandlerContext(instance=instance, plan_context=plan_context,
                                                        steps=plan.steps, execute_step_args=args, dagster_run=run)))
    return {"image": image, "deployment": deployment, "bodies": bodies}


def _container(body: dict) -> dict:
    (container,) = body["spec"]["template"]["spec"]["containers"]
    return container


def test_a_training_step_asks_for_one_gpu_and_others_do_not(step_jobs):
    namespace, training = step_jobs["bodies"]["models__iris_softmax_model"]
    _, raw = step_jobs["bodies"]["raw__iris_raw"]
    assert namespace == NAMESPACE
    resources = _container(training)["resources"]
    assert resources["limits"]["nvidia.com/gpu"] == "1" and resources["requests"]["nvidia.com/gpu"] == "1"
    # on top of what every step of the deployment asks for (values.yaml's resources), merged by dagster-k8s
    requests = step_jobs["deployment"]["resources"]["requests"]
    assert resources["requests"] == {**requests, "nvidia.com/gpu": "1"}
    # and it may be scheduled on GPU nodes that are tainted for GPU work only
    tolerations = training["spec"]["template"]["spec"]["tolerations"]
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in tolerations
    assert _container(raw)["resources"] == {"requests": requests}
    assert "tolerations" not in raw["spec"]["template"]["spec"]


def test_every_step_job_runs_the_code_location_image_with_its_environment(step_jobs):
    expected_env = {e["name"]: e["value"] for e in step_jobs["deployment"]["env"]}
    assert expected_env["ZTDL_EXECUTOR"] == "k8s"
    for step, (_, body) in step_jobs["bodies"].items():
        container = _container(body)
        assert container["image"] == step_jobs["image"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert {k: env.get(k) for k in expected_env} == expected_env, step
        assert env["DAGSTER_HOME"] == DAGSTER_HOME and env["DAGSTER_RUN_STEP_KEY"] == step
        config_maps = [source["configMapRef"]["name"] for source in container["envFrom"] if "configMapRef" in source]
        assert f"{FULLNAME}-ztdl-pipeline-user-env" in config_maps and f"{FULLNAME}-pipeline-env" in config_maps
        assert container["args"][:3] == ["dagster", "api", "execute_step"]
        assert [m["mountPath"] for m in container["volumeMounts"]] == ["/data"]
        (volume,) = body["spec"]["template"]["spec"]["volumes"]
        assert volume["persistentVolumeClaim"]["claimName"] == "ztdl-data"


def test_the_values_file_names_this_code_location_and_a_volume_every_step_can_mount():
    deployment = _deployment()
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "ztdl_pipeline.definitions"]
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True
    assert (REPO / "ztdl_pipeline" / "definitions.py").is_file()
    (volume,) = deployment["volumes"]
    claim = yaml.safe_load((REPO / "deploy" / "k8s" / "data-volume.yaml").read_text())
    assert claim["kind"] == "PersistentVolumeClaim" and claim["metadata"]["name"] == volume["persistentVolumeClaim"][
        "claimName"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]  # step pods on different nodes share it


def test_the_dockerfile_copies_real_paths_and_installs_real_extras():
    text = DOCKERFILE.read_text()
    copied = [part for line in re.findall(r"^COPY (.+)$", text, re.M) for part in line.split()[:-1]]
    assert copied and all((REPO / part).exists() for part in copied), copied
    extras = set(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    (install,) = re.findall(r'pip install "[^"\[]+\[([^\]]+)\]"', text)
    flavours = set(re.findall(r"^ARG TF=(\w+)$", text, re.M)) | {"gpu"}
    assert {part for part in install.split(",") if not part.startswith("$")} | flavours <= extras
    assert "dagster-k8s" in str(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
                                ["optional-dependencies"]["k8s"])
