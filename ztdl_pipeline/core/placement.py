"""Where a step runs, decided from its pool: the one place that turns an asset's `pool` into the hints each
executor reads. A training step (pool `gpu`) goes to the Celery queue `gpu` and, on Kubernetes, asks its pod for
one NVIDIA GPU; every other step gets no hints (the default queue, the executor's default pod).

Pure data: no Dagster, Celery or Kubernetes import. The tag names are the ones dagster-celery and dagster-k8s read
(tests/unit/test_placement.py checks them against those packages).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

CELERY_QUEUE_TAG = "dagster-celery/queue"  # dagster_celery.tags.DAGSTER_CELERY_QUEUE_TAG
K8S_CONFIG_TAG = "dagster-k8s/config"  # dagster_k8s.job.USER_DEFINED_K8S_CONFIG_KEY
GPU_RESOURCE = "nvidia.com/gpu"  # the NVIDIA device plugin's resource name


@dataclass(frozen=True)
class Placement:
    """Where steps of one pool run: a Celery queue, and the Kubernetes resources their pod asks for."""

    queue: str
    k8s_resources: dict[str, str] = field(default_factory=dict)


# pool -> placement; a pool not listed here runs wherever default steps run
PLACEMENTS = {"gpu": Placement(queue="gpu", k8s_resources={GPU_RESOURCE: "1"})}


def placement_tags(pool: str | None) -> dict[str, str]:
    """The op tags for a step of `pool`: the Celery queue, and a `dagster-k8s/config` container resource request
    (requests equal limits, as Kubernetes requires of extended resources such as GPUs) with a toleration for
    each resource, so the pod may also land on nodes tainted to keep other work off the GPUs."""
    placement = PLACEMENTS.get(pool or "")
    if placement is None:
        return {}
    tags = {CELERY_QUEUE_TAG: placement.queue}
    if placement.k8s_resources:
        resources = dict(placement.k8s_resources)
        tolerations = [{"key": name, "operator": "Exists", "effect": "NoSchedule"} for name in sorted(resources)]
        config = {"container_config": {"resources": {"requests": resources, "limits": resources}},
                  "pod_spec_config": {"tolerations": tolerations}}
        tags[K8S_CONFIG_TAG] = json.dumps(config, sort_keys=True)
    return tags
