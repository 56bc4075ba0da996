"""The PostgreSQL instance (ztdl_pipeline/instance/dagster-postgres.yaml, picked by the Makefile when
ZTDL_POSTGRES_URL is set) against a real PostgreSQL server started for this module (tests/e2e/postgres_server.py:
initdb in a temporary folder, pg_ctl on a loopback port, stopped at the end).

With DAGSTER_HOME holding exactly the file the Makefile writes, a real `dagster asset materialize` of a cheap
chain, `dagster schedule start` and `dagster-daemon run` (its heartbeats, a schedule tick and the run it
launches) all keep their runs, events, schedule state and ticks in the database, and nothing of it in SQLite
files under DAGSTER_HOME. The recovery sweep still follows its rule for shared storage there.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.e2e.postgres_server import missing_reason, postgres_server
from ztdl_pipeline.instance import POSTGRES_TEMPLATE, POSTGRES_URL_ENV

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(missing_reason() is not None, reason=missing_reason() or "")]

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EXPORT = "exports/iris_softmax_export"
RAW = "raw/iris_raw"  # what the test schedule's tick asks the daemon to materialize: one cheap asset
SCHEDULE = "postgres_probe"

# the project's definitions plus a schedule that ticks every minute, so the daemon evaluates one within the test
DEFS = textwrap.dedent(f'''
    import dagster as dg

    from ztdl_pipeline import definitions

    probe = dg.ScheduleDefinition(name="{SCHEDULE}", cron_schedule="* * * * *",
                                  target=dg.AssetSelection.assets(dg.AssetKey.from_user_string("{RAW}")))
    defs = dg.Definitions.merge(definitions.defs, dg.Definitions(schedules=[probe]))
''')


@pytest.fixture(scope="module")
def server():
    """The libpq URL of the module's server (for psycopg2 queries)."""
    pytest.importorskip("dagster_postgres", reason="dagster-postgres is not installed (pip install -e '.[deploy]')")
    with postgres_server() as url:
        yield url


@pytest.fixture
def postgres_url(server) -> str:
    """The same database as ZTDL_POSTGRES_URL names it: SQLAlchemy's URL with the psycopg2 driver."""
    return server.replace("postgresql://", "postgresql+psycopg2://", 1)


@pytest.fixture
def home_env(tmp_path, mirror, postgres_url) -> tuple[Path, dict[str, str]]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(POSTGRES_TEMPLATE, home / "dagster.yaml")  # exactly what the Makefile writes
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZTDL_", "DAGSTER_"))}
    env.update({"DAGSTER_HOME": str(home), POSTGRES_URL_ENV: postgres_url, "ZTDL_DATA_DIR": str(tmp_path / "data"),
                "ZTDL_DATA_MIRROR": str(mirror), "ZTDL_PROFILE": "fast", "TF_CPP_MIN_LOG_LEVEL": "2",
                "PYTHONDONTWRITEBYTECODE": "1", "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"})
    return home, env


def _query(url: str, sql: str, *args) -> list[tuple]:
    import psycopg2

    with psycopg2.connect(url.replace("+psycopg2", "", 1)) as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        rows = cur.fetchall()
    conn.close()
    return rows


def _instance(home: Path, url: str, monkeypatch):
    import dagster as dg

    monkeypatch.setenv(POSTGRES_URL_ENV, url)
    return dg.DagsterInstance.from_config(str(home))


def test_the_instance_keeps_runs_events_and_schedules_in_postgres(home_env, postgres_url, monkeypatch):
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    home, env = home_env
    with _instance(home, postgres_url, monkeypatch) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        # the default template's settings are kept: the gpu pool's limit (in the database) and run monitoring
        assert instance.event_log_storage.get_pool_config().default_pool_limit == 1
        assert instance.run_monitoring_enabled

    defs_file = home.parent / "postgres_defs.py"
    defs_file.write_text(DEFS)
    workspace = ["-f", str(defs_file)]
    logs = home.parent

    # 1. a real materialization of a cheap chain, from the CLI
    materialize = subprocess.run([str(BIN / "dagster"), "asset", "materialize", *workspace,
                                  "--select", f'+key:"{EXPORT}"'], cwd=REPO, env=env, capture_output=True,
                                 text=True, timeout=240, check=False)
    output = materialize.stdout + materialize.stderr
    assert materialize.returncode == 0, output[-4000:]  # the console is at INFO (the template's python_logs)
    assert _query(postgres_url, "SELECT status FROM runs") == [("SUCCESS",)]

    # 2. the schedule switched on from the CLI (schedule storage), then the daemon: heartbeats, a tick, its run
    started = subprocess.run([str(BIN / "dagster"), "schedule", "start", SCHEDULE, *workspace], cwd=REPO,
                             env=env, capture_output=True, text=True, timeout=120, check=False)
    assert started.returncode == 0, started.stdout[-2000:] + started.stderr[-2000:]
    daemon_log = logs / "daemon.log"
    daemon = subprocess.Popen([str(BIN / "dagster-daemon"), "run", *workspace], cwd=REPO, env=env,
                              stdout=daemon_log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 150  # the next minute boundary, then the launched run
        launched = []
        while time.monotonic() < deadline:
            assert daemon.poll() is None, f"the daemon died:\n{daemon_log.read_text()[-4000:]}"
            launched = _query(postgres_url, "SELECT run_id, status FROM runs WHERE run_id IN (SELECT run_id FROM "
                              "run_tags WHERE key = 'dagster/schedule_name' AND value = %s)", SCHEDULE)
            if launched and all(status == "SUCCESS" for _, status in launched):
                break
            time.sleep(1)
        else:
            pytest.fail(f"no successful scheduled run within 150 s ({launched}):\n{daemon_log.read_text()[-4000:]}")
        with _instance(home, postgres_url, monkeypatch) as instance:
            heartbeats = instance.get_daemon_heartbeats()
            assert {"SCHEDULER", "QUEUED_RUN_COORDINATOR"} <= set(heartbeats), heartbeats
            assert all(time.time() - beat.timestamp < 120 for beat in heartbeats.values())
    finally:
        if daemon.poll() is None:
            os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()

    # 3. all of it is in PostgreSQL ...
    # (the CLI's run and the scheduled one; a later minute may have queued another before the daemon stopped)
    runs = dict(_query(postgres_url, "SELECT run_id, status FROM runs WHERE pipeline_name NOT LIKE 'sweep_%%'"))
    assert list(runs.values()).count("SUCCESS") >= 2, runs
    materialized = {key for (key,) in _query(postgres_url, "SELECT DISTINCT asset_key FROM event_logs "
                                             "WHERE dagster_event_type = 'ASSET_MATERIALIZATION'")}
    assert '["exports", "iris_softmax_export"]' in materialized and '["raw", "iris_raw"]' in materialized, materialized
    successes = _query(postgres_url, "SELECT count(*) FROM event_logs WHERE dagster_event_type IN "
                       "('RUN_SUCCESS', 'PIPELINE_SUCCESS')")  # stored under its older name
    assert successes[0][0] >= 2, successes
    ticks = _query(postgres_url, "SELECT status FROM job_ticks WHERE type = 'SCHEDULE'")  # the probe's only
    assert ("SUCCESS",) in ticks, ticks
    states = _query(postgres_url, "SELECT status FROM instigators WHERE instigator_type = 'SCHEDULE'")
    assert states == [("RUNNING",)], states
    assert _query(postgres_url, "SELECT count(*) FROM daemon_heartbeats")[0][0] >= 2
    # ... and none of it in SQLite files under DAGSTER_HOME
    assert not list(home.rglob("*.db")), list(home.rglob("*.db"))
    assert (Path(env["ZTDL_DATA_DIR"]) / "fast" / "exports").is_dir()


def test_the_sweep_follows_its_shared_storage_rule_on_postgres(home_env, postgres_url, monkeypatch):
    """On shared storage a dead run is ended only when it is tagged with this host (ztdl/host); an untagged
    one is left alone with the reason; slots held by ended runs are freed through the database."""
    import dagster as dg

    from ztdl_pipeline.recovery import HOST_TAG, sweep

    home, _ = home_env
    with _instance(home, postgres_url, monkeypatch) as instance:
        storage = instance.event_log_storage
        if "gpu" not in storage.get_concurrency_keys():  # the pool's row, as a run's first gpu step makes it
            storage.initialize_concurrency_limit_to_default("gpu")
        runs = {}
        for name, tags in (("tagged", {HOST_TAG: "this-host"}), ("untagged", {}), ("elsewhere", {HOST_TAG: "far"})):
            run = instance.create_run_for_job(dg.GraphDefinition(name=f"sweep_{name}").to_job(), tags=tags)
            instance.report_dagster_event(dg.DagsterEvent(  # a run worker's RUN_START, from a pid that is gone
                event_type_value=dg.DagsterEventType.RUN_START.value, job_name=run.job_name, pid=2 ** 22 + 7),
                run.run_id)
            assert storage.claim_concurrency_slot("gpu", run.run_id, f"{name}_step").is_claimed or name != "tagged"
            runs[name] = run.run_id

        report = sweep(instance, host="this-host", alive=lambda pid, started: False)

        assert [(run_id, new) for run_id, _, new in report.ended] == [(runs["tagged"], "FAILURE")]
        kept = dict(report.kept)
        assert "instance storage is shared" in kept[runs["untagged"]]
        assert "runs on host far" in kept[runs["elsewhere"]]
        assert instance.get_run_by_id(runs["tagged"]).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(runs["untagged"]).status == dg.DagsterRunStatus.STARTED
        assert runs["tagged"] not in {slot.run_id for slot in storage.get_concurrency_info("gpu").claimed_slots}


def test_searches_keep_their_studies_in_the_instances_database_in_a_schema_of_their_own(home_env, postgres_url,
                                                                                        monkeypatch, tmp_path):
    """The tuned chains' studies (resources/tuning.py, docs/tuning.md): with ZTDL_POSTGRES_URL set, a persistent
    instance's TuningStorage names the same database; Optuna's tables go to schema `optuna`, so Dagster's own
    tables and its alembic_version stay as they were, and a second worker continues the same study."""
    from dataclasses import replace

    from tests.e2e.postgres_server import PASSWORD
    from ztdl_pipeline.core import tuning as T
    from ztdl_pipeline.core.search_space import FloatRange, Tuning
    from ztdl_pipeline.resources.tuning import TuningStorage

    home, _ = home_env
    with _instance(home, postgres_url, monkeypatch) as instance:
        dagster_revision = _query(postgres_url, "SELECT version_num FROM public.alembic_version")
        url, where = TuningStorage().locate(instance, tmp_path)
        assert url == postgres_url and "schema optuna" in where and PASSWORD not in where
        search = Tuning(space={"learning_rate": FloatRange(1e-3, 1.0, log=True)}, trials=2, startup_trials=2, seed=0)

        def objective(params: dict) -> T.TrialResult:
            return T.TrialResult(-abs(params["learning_rate"] - 0.05), 1, 1, 0.0)

        assert T.search(objective, search, T.open_storage(url), "probe").ran_now == 2
        more = T.search(objective, replace(search, trials=4), T.open_storage(url), "probe")  # another worker
        assert (more.resumed_from, more.ran_now, more.finished) == (2, 2, 4)
    assert _query(postgres_url, "SELECT count(*) FROM optuna.trials WHERE state = 'COMPLETE'") == [(4,)]
    assert _query(postgres_url, "SELECT version_num FROM public.alembic_version") == dagster_revision
    assert _query(postgres_url, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' "
                                "AND table_name = 'studies'") == [(0,)]
