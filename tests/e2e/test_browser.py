"""The real web UI in headless Chromium (issue 18): what a newcomer does after `make dev`.

`dagster dev` (web server + daemon) runs on a temporary instance with a copy of iris.csv as the only data. The
browser opens the asset graph, filters it to iris_softmax's chain, launches "Materialize all" from the UI and
waits for the run to succeed; then it opens the report and checks that its plots render. Every step leaves a
screenshot: `make screenshots` runs this test with ZTDL_SCREENSHOTS=docs/images, which is where the UI tour
(docs/ui.md) takes its pictures from.

Chromium is Debian's package (`apt-get install chromium`; `.ci/run` installs it), driven through Playwright with
`executable_path`: a browser download at test time is not possible here. Where Chromium is missing the test is
skipped with that command, unless ZTDL_REQUIRE_BROWSER=1 (CI) makes it a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.test_webserver import _free_port, _graphql
from tests.serving.helpers import stop_process_group

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = Path(os.environ.get("ZTDL_CHROMIUM", "/usr/bin/chromium"))
# Chromium on a machine with no network: no background connections to Google's hosts, no sandbox as root
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
SELECTION = '+key:"exports/iris_softmax_export"'
CHAIN = 5  # raw, features, model, report, export
RUN_TIMEOUT_S = 300.0
RUN_LINK = re.compile(r"/runs/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")


def _chromium_or_skip() -> Path:
    if CHROMIUM.is_file():
        return CHROMIUM
    message = f"no Chromium at {CHROMIUM}: install Debian's package (sudo apt-get install chromium)"
    if os.environ.get("ZTDL_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("ZTDL_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def ui(tmp_path_factory, mirror):
    """`dagster dev` on a fresh instance whose only data is iris.csv: {"port", "log"}; stopped afterwards."""
    base = tmp_path_factory.mktemp("browser")
    own_mirror = base / "mirror"
    own_mirror.mkdir()
    shutil.copyfile(mirror / "iris.csv", own_mirror / "iris.csv")
    home = base / "home"
    home.mkdir()
    shutil.copyfile(REPO / "ztdl_pipeline" / "instance" / "dagster.yaml", home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZTDL_", "DAGSTER_"))}
    env.update({"DAGSTER_HOME": str(home), "ZTDL_DATA_DIR": str(base / "data"), "ZTDL_DATA_MIRROR": str(own_mirror),
                "ZTDL_PROFILE": "fast", "TF_CPP_MIN_LOG_LEVEL": "2", "DAGSTER_DISABLE_TELEMETRY": "yes",
                "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"})
    port = _free_port()
    log_path = base / "dagster_dev.log"
    with open(log_path, "wb") as log:
        dev = subprocess.Popen([str(BIN / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                               cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert dev.poll() is None, log_path.read_text()[-5000:]
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2).close()
                break
            except (urllib.error.URLError, OSError):
                time.sleep(1)
        else:
            pytest.fail("dagster dev did not answer within 180 s:\n" + log_path.read_text()[-5000:])
        yield {"port": port, "log": log_path}
    finally:
        stop_process_group(dev)


@pytest.fixture(scope="module")
def page(ui):
    from playwright.sync_api import sync_playwright

    chromium = _chromium_or_skip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 900})
            tab.set_default_timeout(60_000)
            # the UI's first-visit community dialog may open late on a busy machine: dismiss it whenever it shows
            skip = tab.get_by_role("button", name="Skip")
            tab.add_locator_handler(skip, lambda *_: skip.click())
            yield tab
        finally:
            browser.close()


def _open(page, ui, path: str) -> None:
    page.goto(f"http://127.0.0.1:{ui['port']}{path}", wait_until="load", timeout=120_000)
    skip = page.get_by_role("button", name="Skip")  # the UI's first-visit community dialog
    try:
        skip.wait_for(state="visible", timeout=5_000)
        skip.click()
    except Exception:  # noqa: BLE001 - not shown (it was dismissed before)
        pass


def _launched_run(page, timeout_s: float = 60.0) -> str:
    """The run id in the "Launched run … View" toast's link."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        hrefs = page.locator("a[href*='/runs/']").evaluate_all("links => links.map(a => a.href)")
        ids = [m.group(1) for m in map(RUN_LINK.search, hrefs) if m]
        if ids:
            return ids[0]
        time.sleep(0.5)
    raise AssertionError("no 'Launched run' link appeared after clicking Materialize all")


def _run_status(port: int, run_id: str) -> str:
    data = _graphql(port, "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }", {"id": run_id})
    return data["runOrError"]["status"]


def test_a_newcomer_materializes_from_the_ui_and_reads_the_report_with_its_plots(ui, page, screenshots):
    _open(page, ui, "/asset-groups")
    page.get_by_text("tabular", exact=True).first.wait_for()  # the groups of the global graph are drawn
    page.screenshot(path=str(screenshots / "asset-graph.png"))

    page.locator(".CodeMirror").first.click()  # the graph's selection box takes Dagster's selection syntax
    page.keyboard.type(SELECTION)
    page.keyboard.press("Enter")
    launch = page.get_by_role("button", name=f"Materialize all ({CHAIN})")
    launch.wait_for()
    page.get_by_text("iris_softmax_model", exact=True).first.wait_for()
    page.screenshot(path=str(screenshots / "iris-chain.png"))
    launch.click()

    run_id = _launched_run(page)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    status = _run_status(ui["port"], run_id)
    while status not in ("SUCCESS", "FAILURE", "CANCELED") and time.monotonic() < deadline:
        time.sleep(2)
        status = _run_status(ui["port"], run_id)
    assert status == "SUCCESS", (status, ui["log"].read_text()[-5000:])
    # a run launched from the UI carries the profile and commit tags (Storage tags every run it serves)
    query = "query($id: ID!) { runOrError(runId: $id) { ... on Run { tags { key value } } } }"
    tags = {t["key"]: t["value"] for t in _graphql(ui["port"], query, {"id": run_id})["runOrError"]["tags"]}
    assert tags.get("ztdl/profile") == "fast" and tags.get("ztdl/git_commit"), tags
    _open(page, ui, f"/runs/{run_id}")
    page.get_by_text("Success").first.wait_for()
    page.screenshot(path=str(screenshots / "run.png"))

    _open(page, ui, "/assets/reports/iris_softmax_report")
    page.get_by_text("test_accuracy").first.wait_for()  # the report's metrics are metadata of the materialization
    page.get_by_text("The full report with plots is the").first.wait_for()  # "ours vs the book", shown inline
    # the loss curve is drawn on the page itself, before any click (core/sparkline.py: under the inline limit)
    page.get_by_text("Loss over").first.wait_for()
    inline = page.locator('img[alt="loss per epoch"]')
    inline.first.wait_for()
    assert inline.first.evaluate("i => i.complete ? i.naturalWidth : 0") >= 50
    page.screenshot(path=str(screenshots / "report.png"))
    page.get_by_text("Show Markdown").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Plots").first.wait_for()
    plots = dialog.locator("img")
    plots.first.scroll_into_view_if_needed()
    plots.first.wait_for()
    drawn = plots.evaluate_all("imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert drawn and all(width > 100 for width in drawn), drawn  # every plot decoded, not a broken image
    page.screenshot(path=str(screenshots / "report-plots.png"))
