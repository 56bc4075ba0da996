"""TensorFlow's known harmless noise, silenced where it starts; everything else it prints stays.

Set up before TensorFlow is imported (`install(level)`, from the code location and ztdl-serve):

- TF_CPP_MIN_LOG_LEVEL, unless already set: '3' below the debug level hides TensorFlow's C++ log lines below
  FATAL, among them `E0000 ... NodeDef mentions attribute use_unbounded_threadpool which is not in the op
  definition`, which tf.data logs on every training under op determinism (TensorFlow 2.20+, harmless). An error
  that matters reaches Python as an exception; `ZTDL_LOG_LEVEL=debug` sets '0' and shows everything.
- While TensorFlow is imported, before any threshold applies, absl writes two notices straight to file
  descriptor 2: `WARNING: All log messages before absl::InitializeLog() is called are written to STDERR` and
  oneDNN's `oneDNN custom operations are on ...` (oneDNN stays on: it is faster on CPUs). The first
  `import tensorflow` runs with descriptor 2 captured; every other captured line is written back.
- Keras' `triggered tf.function retracing` warning (predictions on a new batch shape or a new model, which
  the reports and cross-validation do on purpose) is filtered from the `tensorflow` logger.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import logging
import os
import re
import sys
import tempfile

IMPORT_NOTICES = (
    re.compile(rb"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR\s*$"),
    re.compile(rb"^I\d{4} [\d:. ]+\d+ port\.cc:\d+\] oneDNN custom operations are on\. "),
)
RETRACING = re.compile(r"triggered tf\.function retracing")


def _keep(line: bytes, notices=IMPORT_NOTICES) -> bool:
    return not any(pattern.search(line) for pattern in notices)


@contextlib.contextmanager
def stderr_without(notices=IMPORT_NOTICES):
    """Capture file descriptor 2 (C++ writes there directly) and write back every line but `notices`."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no descriptor 2 to capture: nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = b"".join(line for line in captured.read().splitlines(keepends=True) if _keep(line, notices))
            if kept:
                os.write(2, kept)


class _QuietLoader(importlib.abc.Loader):
    """TensorFlow's own loader, executed once with its import notices filtered."""

    def __init__(self, loader, finder):
        self._loader, self._finder = loader, finder

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self._finder)  # once: TensorFlow is imported from now on
        module.__loader__ = module.__spec__.loader = self._loader  # later readers see TensorFlow's own loader
        with stderr_without():
            self._loader.exec_module(module)


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` as the next finders do, with its loader wrapped in _QuietLoader."""

    def __init__(self):
        self._finding = False

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow" or self._finding:
            return None
        self._finding = True  # importlib.util.find_spec below asks every finder, this one included
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self._finding = False
        if spec is not None and spec.loader is not None and name not in sys.modules:
            spec.loader = _QuietLoader(spec.loader, self)
        return spec


class _WithoutRetracing(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not RETRACING.search(record.getMessage())


def install(level: str = "info") -> None:
    """Set TensorFlow's log threshold and filter its known notices for this process (idempotent)."""
    debug = level == "debug"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if debug else "3")
    if debug:
        return  # debug shows everything
    tf_logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _WithoutRetracing) for f in tf_logger.filters):
        tf_logger.addFilter(_WithoutRetracing())
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietTensorFlowImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowImport())  # an imported TensorFlow has printed its notices already
