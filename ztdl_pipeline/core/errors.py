"""One error type for bad input, with a message that names the file, the problem and the fix."""

from __future__ import annotations

from pathlib import Path


class DataError(ValueError):
    """Raised for a missing, corrupt or malformed input; the message is meant for a person."""

    def __init__(self, source: str | Path, problem: str, fix: str | None = None):
        self.source = str(source)
        self.problem = problem
        self.fix = fix
        message = f"{self.source}: {problem}"
        if fix:
            message += f"\n  fix: {fix}"
        super().__init__(message)


class FetchFailed(DataError):
    """A download or remote check that failed on the way (network, server): worth retrying, unlike a file
    whose bytes or columns are wrong."""

    transient = True
