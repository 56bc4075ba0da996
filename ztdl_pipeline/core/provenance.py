"""Where a result came from: the code's git commit and the run tags every run carries."""

from __future__ import annotations

import os
import subprocess
from functools import cache
from pathlib import Path

COMMIT_ENV = "ZTDL_GIT_COMMIT"  # set where the code is not a git checkout (a wheel, a container image)
PROFILE_TAG = "ztdl/profile"
COMMIT_TAG = "ztdl/git_commit"
HOST_TAG = "ztdl/host"  # the machine a run's processes ran on: the recovery sweep ends only its own machine's runs


@cache
def git_commit() -> str:
    """The commit of the checkout this package runs from, with '-dirty' when tracked files differ from it;
    $ZTDL_GIT_COMMIT where set; 'unknown' outside a git checkout."""
    if os.environ.get(COMMIT_ENV):
        return os.environ[COMMIT_ENV]
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{sha}-dirty" if dirty else sha


def run_tags(profile: str) -> dict[str, str]:
    """The tags that say under which profile and which code a run ran."""
    return {PROFILE_TAG: profile, COMMIT_TAG: git_commit()}
