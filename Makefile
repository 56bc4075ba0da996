# ztdl-pipeline — every target installs what it needs first (a fresh clone needs nothing else).
#   make run       materialize what is missing or stale in SELECT (default: tabular + serving) at the book's
#                  settings; FORCE=1 materializes all of it
#   make test      offline CPU test suite, fast profile, on TEST_WORKERS pytest-xdist workers (default 2; each test
#                  file stays on one worker, so its module-scoped group runs happen once; TEST_WORKERS=0: one process)
#   make test-faults  the fault cases only (tests marked `fault`)
#   make test-book book-settings runs compared with the book's numbers (slow)
#   make test-docs every shell command of the README and docs/*.md run as written in a scratch clone (fast
#                  profile; servers started, asked and stopped on their documented ports; `make test` runs the
#                  README's single-example commands)
#   make results   docs/results.md: every example's book number next to ours, from the book-profile reports
#   make dev       Dagster web UI + daemon on http://127.0.0.1:3000
#   make sweep     end runs whose process died (killed, crashed) and free the pool slots they held
#   make serve     TF Serving-compatible REST server for data/exports on http://127.0.0.1:8501
#   make tensorboard  every training's per-epoch curves (TensorBoard) on http://127.0.0.1:6006
#   make mlflow    the MLflow runs of every training (parameters, curves, exported models) on http://127.0.0.1:5000
#   make bench     benchmarks; results in bench/results/, then one table of their headline ratios (bench/summary.py)
#   make screenshots  docs/images/ for the UI tour (docs/ui.md), from the browser test (needs Debian's chromium)
#   make home      write $DAGSTER_HOME/dagster.yaml (SQLite, or PostgreSQL when ZTDL_POSTGRES_URL is set)
# Variables: TF=cpu|gpu (TensorFlow flavour), EXTRAS=deploy (more extras, comma-separated: deploy brings
# dagster-postgres), PYTHON, SELECT (asset selection for make run), LOG_LEVEL=debug (make run prints every
# Dagster event and TensorFlow's own log lines; default info), ZTDL_POSTGRES_URL (docs/deployment.md),
# TENSORBOARD_PORT, MLFLOW_PORT; ZTDL_PROFILE=fast shows the fast profile's trainings (docs/tracking.md)

PYTHON ?= python3
VENV ?= .venv
TF ?= cpu
EXTRAS ?= $(if $(ZTDL_POSTGRES_URL),deploy)
SELECT ?= group:tabular or group:serving
PORT ?= 3000
TEST_WORKERS ?= 2
SERVE_PORT ?= 8501
TENSORBOARD_PORT ?= 6006
MLFLOW_PORT ?= 5000
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(TF)
comma := ,
EXTRA_STAMPS := $(foreach extra,$(subst $(comma), ,$(EXTRAS)),$(VENV)/.installed-extra-$(extra))

export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install run test test-faults test-book test-docs results dev serve bench lint clean home sweep screenshots tensorboard mlflow

install: $(STAMP) $(EXTRA_STAMPS)

ifeq ($(filter $(TF),cpu gpu),)
$(error TF must be cpu or gpu (the TensorFlow flavour: tensorflow-cpu, or tensorflow[and-cuda] for NVIDIA GPUs))
endif
# the two TensorFlow builds write the same files: switching flavour removes the other one first
OTHER_TF := $(if $(filter gpu,$(TF)),tensorflow-cpu,tensorflow)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@$(BIN)/python -m pip uninstall -q -y $(OTHER_TF) 2>/dev/null || true
	$(BIN)/python -m pip install -q -e '.[$(TF),dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# an extra stays installed once asked for (until pyproject.toml or TF changes): no reinstall when EXTRAS changes
$(VENV)/.installed-extra-%: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[$(TF),dev,$*]'
	@touch $@

# the Dagster instance: run history survives between commands; no telemetry on offline machines;
# the "gpu" pool runs one training step at a time across runs; run monitoring for daemon runs.
# Written from ztdl_pipeline/instance/dagster.yaml (everything in SQLite under DAGSTER_HOME), or from
# ztdl_pipeline/instance/dagster-postgres.yaml when ZTDL_POSTGRES_URL is set (run, event-log and schedule
# storage in that database; docs/deployment.md); again whenever that template is newer or the choice
# changed (an older instance file is kept as dagster.yaml.bak).
INSTANCE_KIND := $(if $(ZTDL_POSTGRES_URL),postgres,sqlite)
INSTANCE_TEMPLATE := ztdl_pipeline/instance/$(if $(ZTDL_POSTGRES_URL),dagster-postgres,dagster).yaml

ifneq ($(ZTDL_POSTGRES_URL),)
ifeq ($(filter postgresql+psycopg2://%,$(ZTDL_POSTGRES_URL)),)
$(error ZTDL_POSTGRES_URL must start with postgresql+psycopg2:// (SQLAlchemy's URL with the psycopg2 driver that dagster-postgres installs))
endif
endif

home: $(DAGSTER_HOME)/dagster.yaml

$(DAGSTER_HOME)/dagster.yaml: $(INSTANCE_TEMPLATE) $(DAGSTER_HOME)/.instance-$(INSTANCE_KIND)
	@mkdir -p $(DAGSTER_HOME)
	@if [ -f $@ ] && ! cmp -s $(INSTANCE_TEMPLATE) $@; then cp $@ $@.bak; \
		echo "$@: updated from $(INSTANCE_TEMPLATE) (previous file kept as $@.bak)"; fi
	@cp $(INSTANCE_TEMPLATE) $@

# which template the instance file came from: a switch between SQLite and PostgreSQL rewrites it
$(DAGSTER_HOME)/.instance-%:
	@mkdir -p $(DAGSTER_HOME)
	@rm -f $(DAGSTER_HOME)/.instance-*
	@touch $@

# runs whose process was killed or crashed: marked failed, their pool slots freed (ztdl_pipeline/recovery.py);
# history under keys from before the rename carried over to the new keys (ztdl_pipeline/migrate.py)
sweep: install home
	$(BIN)/python -m ztdl_pipeline.recovery
	$(BIN)/python -m ztdl_pipeline.migrate

# run.py ends dead runs and carries old keys' history over first (what `make sweep` does), in the same process;
# with nothing changed since its last "nothing to do" it replays that and loads nothing (ztdl_pipeline/run_stamp.py)
run: install home
	$(BIN)/python -m ztdl_pipeline.run --select '$(SELECT)' $(if $(FORCE),--force,) $(if $(LOG_LEVEL),--log-level $(LOG_LEVEL),)

test: install
	$(BIN)/python -m pytest -q -ra -n $(TEST_WORKERS) --dist loadfile

# the fault suite: killed runs, damaged storage, invalid settings, bad and hostile input (README: Faults)
test-faults: install
	$(BIN)/python -m pytest -q -ra -m fault

# docs/images/: the UI tour's pictures (docs/ui.md), taken by the browser test in headless Chromium
screenshots: install
	ZTDL_SCREENSHOTS=$(CURDIR)/docs/images ZTDL_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q -p no:xdist tests/e2e/test_browser.py

test-book: install
	$(BIN)/python -m pytest -q -ra -m book

# the docs' commands as written (tests/e2e/test_docs_run.py): one process, documents in order; -s shows the summary
test-docs: install
	$(BIN)/python -m pytest -q -ra -s -p no:xdist -m docs tests/e2e/test_docs_run.py

# docs/results.md from the book profile's reports under $(ZTDL_DATA_DIR) (default ./data): run the book profile first
results: install
	$(BIN)/python -m ztdl_pipeline.results --out docs/results.md

dev: install home
	$(BIN)/python -m ztdl_pipeline.recovery
	$(BIN)/python -m ztdl_pipeline.migrate
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(PORT)

serve: install
	$(BIN)/ztdl-serve --host 127.0.0.1 --port $(SERVE_PORT)

# the run profile's log folder and MLflow store (python -m ztdl_pipeline.where tensorboard|mlflow says which)
tensorboard: install
	$(BIN)/tensorboard --logdir "$$($(BIN)/python -m ztdl_pipeline.where tensorboard)" \
		--host 127.0.0.1 --port $(TENSORBOARD_PORT)

mlflow: install
	$(BIN)/mlflow ui --backend-store-uri "$$($(BIN)/python -m ztdl_pipeline.where mlflow)" \
		--host 127.0.0.1 --port $(MLFLOW_PORT)

bench: install home
	$(BIN)/python bench/import_time.py
	$(BIN)/python bench/materialize_time.py
	$(BIN)/python bench/whole_graph.py
	$(BIN)/python bench/serving_latency.py
	$(BIN)/python bench/soak.py
	$(BIN)/python bench/living_cycle.py
	$(BIN)/python bench/windows.py
	$(BIN)/python bench/vision_throughput.py
	$(BIN)/python bench/text_tokenize.py
	$(BIN)/python bench/glove_loading.py
	$(BIN)/python bench/bottleneck_throughput.py
	$(BIN)/python bench/summary.py

lint: install
	$(BIN)/ruff check ztdl_pipeline tests bench

clean:
	rm -rf $(VENV) .dagster_home
