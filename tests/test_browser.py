"""The rendered project in a real browser: `dagster dev`, the asset graph, one partition run.

Headless Chromium (Debian's /usr/bin/chromium, driven by Playwright; `playwright install`
is never run) opens the Dagster UI of the default project, checks the eight assets and
their lineage, a partition of the daily chain is materialized through the webserver's
GraphQL API, and the UI shows it. `UPDATE_SCREENSHOTS=1` writes the asset graph to
docs/images/asset-graph.png; otherwise the screenshot stays in pytest's tmp_path.
"""

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import clean_env, module_constant
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright
from webserver import Server, graphql, serve, tail

# The lineage of docs/architecture.md: one arrow per (upstream, downstream) pair.
EDGES = 7
DAILY_CHAIN = ["daily_raw_data", "stg_daily_raw_data", "mart_daily_data", "post_processing_daily"]
# The asset groups, one per layer (the rendered project's catalog.py and translator.py).
LAYERS = ["raw", "staging", "marts", "reports"]
PARTITION = "A|2024-01-01"  # category|date

CHROMIUM = Path(os.environ.get("CHROMIUM_EXECUTABLE", "/usr/bin/chromium"))
# Flags that run Debian's Chromium headless as root, with no calls home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Large enough for the graph to draw whole asset nodes (smaller zooms shorten the names).
VIEWPORT = {"width": 1440, "height": 810}
# Set before any page script: no "Join the Dagster community" dialog, navigation collapsed.
UI_SETTINGS = "localStorage.setItem('communityNux', '1'); localStorage.setItem('dagster-nav-collapsed', 'true');"
DOCS_SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "images" / "asset-graph.png"

RUN_TIMEOUT = 180  # seconds for the run to finish
UI_TIMEOUT_MS = 30_000

LAUNCH_RUN = """mutation LaunchRun($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on PythonError { message stack }
    ... on Error { message }
  }
}"""

RUN_STATUS = """query RunStatus($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      status
      eventConnection(limit: 200) { events { __typename ... on MessageEvent { message } } }
    }
  }
}"""

MATERIALIZATIONS = """query Materializations($path: [String!]!, $partition: String!) {
  assetOrError(assetKey: {path: $path}) {
    __typename
    ... on Asset { assetMaterializations(partitions: [$partition], limit: 10) { runId partition } }
  }
}"""


@pytest.fixture
def chromium() -> Path:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"No browser: {CHROMIUM} is missing (Debian: apt-get install chromium; .ci/run does it).")
    return CHROMIUM


@pytest.fixture
def project(chromium, installed_project) -> Path:
    """The default project with its .venv (`make install`), shared with the tooling tests.

    Asks for the browser first, so that a machine without one skips before any build.
    """
    assert installed_project.root.name == "dagster_dbt_pipeline"
    return installed_project.root


@pytest.fixture
def dagster_ui(project: Path, tmp_path: Path) -> Iterator[Server]:
    """`dagster dev` in the project on a free loopback port, stopped with all its processes."""
    env = clean_env(DUCKDB_DATABASE=str(tmp_path / "pipeline.duckdb"))
    # No DAGSTER_HOME: dagster dev makes a temporary instance folder in the project and
    # reads the project's dagster.yaml (the one-slot DuckDB pool, run retries).
    with serve([str(project / ".venv/bin/dagster"), "dev"], project, env, tmp_path / "dagster-dev.log") as server:
        yield server


@pytest.fixture
def browser(chromium: Path, tmp_path: Path) -> Iterator[BrowserContext]:
    """Headless Chromium with a new, empty profile in tmp_path."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(chromium),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport=VIEWPORT,
        )
        try:
            context.set_default_timeout(UI_TIMEOUT_MS)
            # Assertions wait as long as actions: a loaded machine draws the graph's nodes late.
            expect.set_options(timeout=UI_TIMEOUT_MS)
            context.add_init_script(UI_SETTINGS)
            yield context
        finally:
            context.close()


def open_page(context: BrowserContext) -> Page:
    page = context.pages[0] if context.pages else context.new_page()
    # Should the community dialog come all the same, it is dismissed before any check.
    page.add_locator_handler(page.get_by_role("button", name="Skip", exact=True), lambda skip: skip.click())
    return page


def asset_graph(page: Page, base_url: str):
    """Open the global asset lineage; the graph drawing, once every node has loaded."""
    page.goto(f"{base_url}/asset-groups")
    expect(page.get_by_text("Global asset lineage")).to_be_visible()
    # The graph is an SVG whose asset nodes are HTML inside foreignObject elements.
    graph = page.locator("svg").filter(has=page.locator("foreignObject"))
    expect(graph).to_have_count(1)
    expect(graph.get_by_text(re.compile("Loading"))).to_have_count(0)
    # The assets sit in one group per layer, drawn collapsed until a user opens them (the
    # browser remembers it): open each one still collapsed.
    for layer in LAYERS:
        expect(graph.get_by_text(layer, exact=True).first).to_be_visible()
    collapsed = graph.get_by_role("img", name="unfold_more")
    for _ in range(min(collapsed.count(), len(LAYERS))):
        collapsed.first.click()
    expect(collapsed).to_have_count(0)
    expect(graph.get_by_text(re.compile("Loading"))).to_have_count(0)
    return graph


def launch_partition_run(ui: Server, assets: list[str], partition: str) -> str:
    """One run of the implicit asset job for a partition of the given assets; its id."""
    params = {
        "selector": {
            "repositoryLocationName": ui.location,
            "repositoryName": ui.repository,
            "jobName": "__ASSET_JOB",
            "assetSelection": [{"path": [asset]} for asset in assets],
        },
        "runConfigData": {},
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": partition}]},
    }
    launched = graphql(ui.base_url, LAUNCH_RUN, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def wait_for_run(ui: Server, run_id: str) -> str:
    """Poll the run until it ends (bounded); its final status."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        run = graphql(ui.base_url, RUN_STATUS, {"runId": run_id})["runOrError"]
        assert run["__typename"] == "Run", run
        if run["status"] in {"SUCCESS", "FAILURE", "CANCELED"}:
            if run["status"] != "SUCCESS":
                messages = [event.get("message", "") for event in run["eventConnection"]["events"]]
                print("\n".join(messages[-40:]))
            return run["status"]
        if time.monotonic() > deadline:
            pytest.fail(f"Run {run_id} still {run['status']} after {RUN_TIMEOUT} s:\n{tail(ui.log)}")
        time.sleep(1)


@pytest.mark.project_suite
def test_asset_graph_lineage_and_a_partition_run_in_the_browser(project, dagster_ui, browser, tmp_path):
    ui = dagster_ui
    # The eight assets, as the rendered project's own definitions test lists them.
    assets = sorted(module_constant(project / "tests" / "test_definitions.py", "EXPECTED_ASSETS"))
    page = open_page(browser)

    # Every asset is a node of the graph, with one edge per dependency.
    graph = asset_graph(page, ui.base_url)
    assert len(assets) == 8
    for asset in assets:
        expect(graph.get_by_text(asset, exact=True)).to_be_visible()
        expect(graph.get_by_text(asset, exact=True)).to_have_count(1)
    expect(graph.locator("path[marker-end]")).to_have_count(EDGES)

    # The asset page lists the lineage: a week's mart reads both staging models.
    page.goto(f"{ui.base_url}/assets/mart_weekly_data")
    upstream = page.get_by_text("Upstream assets", exact=True).locator("xpath=..")
    downstream = page.get_by_text("Downstream assets", exact=True).locator("xpath=..")
    expect(upstream.get_by_role("link")).to_have_count(2)
    expect(upstream.get_by_role("link", name="stg_daily_raw_data")).to_be_visible()
    expect(upstream.get_by_role("link", name="stg_weekly_raw_data")).to_be_visible()
    expect(downstream.get_by_role("link")).to_have_count(1)
    expect(downstream.get_by_role("link", name="post_processing_weekly")).to_be_visible()

    # One partition of the daily chain, in one run, through the webserver.
    run_id = launch_partition_run(ui, DAILY_CHAIN, PARTITION)
    status = wait_for_run(ui, run_id)
    assert status == "SUCCESS", f"Run {run_id} ended {status} (its messages are printed above)"
    for asset in DAILY_CHAIN:
        asset_node = graphql(ui.base_url, MATERIALIZATIONS, {"path": [asset], "partition": PARTITION})["assetOrError"]
        assert asset_node["__typename"] == "Asset", asset_node
        assert {(m["runId"], m["partition"]) for m in asset_node["assetMaterializations"]} == {(run_id, PARTITION)}

    # The UI shows the new materializations.
    for asset in DAILY_CHAIN:
        page.goto(f"{ui.base_url}/assets/{asset}")
        status_section = page.get_by_text("Latest materialization", exact=True).locator("xpath=..")
        expect(status_section.get_by_text(PARTITION, exact=True)).to_be_visible()
    page.goto(f"{ui.base_url}/assets/weekly_raw_data")
    expect(page.get_by_text("Never materialized")).to_be_visible()

    # A picture of the graph after the run, for the docs when asked for.
    graph = asset_graph(page, ui.base_url)
    expect(graph.get_by_text(assets[-1], exact=True)).to_be_visible()
    screenshot = DOCS_SCREENSHOT if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path / "asset-graph.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot))
    assert screenshot.stat().st_size > 10_000
