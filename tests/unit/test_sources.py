"""Observed sources (issue 14): a user's own file ($ZTDL_SOURCE_<NAME>), the mirror's copy and a URL's ETag as data
versions; the cache never hides a change; the sensor records an observation only when a source changed."""

from __future__ import annotations

import http.server
import shutil
import threading

import dagster as dg
import pytest

from ztdl_pipeline import settings
from ztdl_pipeline.assets.sources import changed_sources, latest_version, observation_sensor, source_key
from ztdl_pipeline.catalog import datasets
from ztdl_pipeline.core import sources
from ztdl_pipeline.core.errors import DataError
from ztdl_pipeline.core.schema import read_csv_checked, sha256_file
from ztdl_pipeline.resources.data_source import DatasetSource

IRIS = datasets.get("iris")
NEW_ROW = "6.1,3.0,5.0,1.9,virginica\n"


@pytest.fixture
def setup(tmp_path, mirror, monkeypatch):
    """(DatasetSource over an empty cache and a temp mirror with iris.csv, the user's own copy of iris.csv)."""
    for name in (settings.MIRROR_ENV, settings.source_env("iris")):
        monkeypatch.delenv(name, raising=False)
    own_mirror = tmp_path / "mirror"
    own_mirror.mkdir()
    shutil.copyfile(mirror / IRIS.filename, own_mirror / IRIS.filename)
    mine = tmp_path / "my_iris.csv"
    shutil.copyfile(mirror / IRIS.filename, mine)
    source = DatasetSource(cache_dir=str(tmp_path / "cache"), mirror_dir=str(own_mirror), allow_download=False)
    return source, mine


def _parse(path):
    return read_csv_checked(path, IRIS.columns, IRIS.read_options)


def test_the_variable_name():
    assert settings.source_env("iris") == "ZTDL_SOURCE_IRIS"
    assert settings.source_env("glove_6b_50d") == "ZTDL_SOURCE_GLOVE_6B_50D"


def test_a_configured_file_is_read_in_place_checked_and_never_cached(setup, monkeypatch):
    source, mine = setup
    with mine.open("a") as handle:
        handle.write(NEW_ROW)
    monkeypatch.setenv("ZTDL_SOURCE_IRIS", str(mine))
    path, digest, origin = source.fetch(IRIS, validate=_parse)
    assert (path, origin, digest) == (mine, "configured", sha256_file(mine)) and digest != IRIS.sha256
    assert len(_parse(path)) == 151
    assert not (source.cache_folder() / IRIS.filename).exists()
    with mine.open("a") as handle:  # the next read sees the next change: no copy stands in for the file
        handle.write(NEW_ROW)
    assert source.fetch(IRIS, validate=_parse)[1] == sha256_file(mine)


@pytest.mark.fault
def test_a_configured_file_with_bad_columns_fails_naming_it(setup, monkeypatch):
    source, mine = setup
    mine.write_text("sepal_length,sepal_width\n1,2\n")
    monkeypatch.setenv("ZTDL_SOURCE_IRIS", str(mine))
    with pytest.raises(DataError, match="missing column") as info:
        source.fetch(IRIS, validate=_parse)
    assert str(mine) in str(info.value)
    monkeypatch.setenv("ZTDL_SOURCE_IRIS", str(mine.parent / "nowhere.csv"))
    with pytest.raises(DataError, match="ZTDL_SOURCE_IRIS points at .*nowhere.csv, which is not a file"):
        source.fetch(IRIS, validate=_parse)


@pytest.mark.fault
def test_a_changed_copy_of_a_book_file_fails_clearly_even_with_a_good_cache(setup):
    source, _ = setup
    assert source.fetch(IRIS)[2] == "mirror"
    assert source.fetch(IRIS)[2] == "cache"
    with (source._mirror() / IRIS.filename).open("a") as handle:
        handle.write(NEW_ROW)
    with pytest.raises(DataError, match="sha256 mismatch for iris.csv"):
        source.fetch(IRIS)


def test_observe_configured_mirror_and_unavailable(setup, monkeypatch):
    source, mine = setup
    assert source.observe(IRIS) == sources.Observation(IRIS.sha256, "mirror", str(source._mirror() / IRIS.filename))
    monkeypatch.setenv("ZTDL_SOURCE_IRIS", str(mine))
    stats: dict = {}
    assert source.observe(IRIS, stats).data_version == sha256_file(mine)
    assert stats[str(mine)][2] == sha256_file(mine)  # remembered with the size and time it was hashed at
    cifar = datasets.get("cifar10")
    seen = source.observe(cifar)
    assert not seen.available and "downloads are disabled" in seen.detail


class _ETagHandler(http.server.BaseHTTPRequestHandler):
    etag = '"v1"'

    def do_HEAD(self):  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("ETag", type(self).etag)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_url_is_observed_by_its_etag_at_most_hourly():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ETagHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/iris.csv"
        stats: dict = {}
        assert sources.url_version_checked(url, stats) == ("etag:v1", url)
        _ETagHandler.etag = '"v2"'
        assert sources.url_version_checked(url, stats)[0] == "etag:v1"  # asked again only after an hour
        assert sources.url_version_checked(url, stats, max_age_s=0)[0] == "etag:v2"
    finally:
        server.shutdown()
    version, why = sources.url_version(url, timeout=1)
    assert version is None and "cannot be reached" in why


def test_the_sensor_records_an_observation_only_when_a_source_changed(setup, monkeypatch):
    source, mine = setup
    monkeypatch.setenv("ZTDL_SOURCE_IRIS", str(mine))
    sensor = observation_sensor({"iris": "tabular", "cifar10": "vision"}, 30)
    with dg.instance_for_test() as instance:
        def tick(cursor=None):
            context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"data_source": source})
            return sensor(context), context.cursor

        result, cursor = tick()
        assert [e.asset_key for e in result.asset_events] == [source_key("iris")]
        for event in result.asset_events:  # what the daemon does with a SensorResult's events
            instance.report_runless_asset_event(event)
        assert latest_version(instance, source_key("iris")) == sha256_file(mine)
        skipped, cursor = tick(cursor)
        assert isinstance(skipped, dg.SkipReason) and "no source changed" in skipped.skip_message
        assert "cifar10" in skipped.skip_message  # says which source cannot be read here, and why
        with mine.open("a") as handle:
            handle.write(NEW_ROW)
        changed, _ = tick(cursor)
        assert [e.tags["dagster/data_version"] for e in changed.asset_events] == [sha256_file(mine)]
        events, unavailable = changed_sources(instance, source, ["iris", "cifar10"])
        assert len(events) == 1 and set(unavailable) == {"cifar10"}


@pytest.mark.fault
def test_the_sensor_interval_is_a_validated_setting(monkeypatch):
    from ztdl_pipeline import settings

    monkeypatch.delenv("ZTDL_SENSOR_INTERVAL_S", raising=False)
    assert settings.sensor_interval_s() == 30
    monkeypatch.setenv("ZTDL_SENSOR_INTERVAL_S", "5")
    assert settings.sensor_interval_s() == 5
    for bad in ("0", "-3", "2.5", "soon", "86401"):
        monkeypatch.setenv("ZTDL_SENSOR_INTERVAL_S", bad)
        with pytest.raises(ValueError, match=f"ZTDL_SENSOR_INTERVAL_S='{bad}'.*whole number of seconds"):
            settings.sensor_interval_s()
