"""The portal in a real browser: Playwright drives Debian's Chromium against the collector
app served by uvicorn on loopback. Each role's main paths, the refusals (another
contributor's page, an ML engineer on a contributor page: 403 and audited), CSRF, cookie
flags and a keyboard-only sign-in. Screenshots of each main page go to docs/portal/."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.portal_support import PASSWORD, PortalServer, start_portal

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "portal"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalServer]:
    srv = start_portal(tmp_path_factory.mktemp("portal"))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if shutil.which("chromium") is None and not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server: PortalServer):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=server.url, viewport={"width": 1200, "height": 900},
                                  accept_downloads=True)
    # Nothing may come from the internet: fail any request that is not to the portal.
    context.route(re.compile(r"^(?!" + re.escape(server.url) + ").*"), lambda route: route.abort())
    pg = context.new_page()
    yield pg
    context.close()


def sign_in(page, login: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def step_forward(page) -> None:  # type: ignore[no-untyped-def]
    """Press the right arrow and wait until the next step's page is shown. The key handler
    navigates, and it is installed when the page's deferred script has run; a key pressed
    before then goes to the page being left, or to no handler, and is lost (as for a person).
    So each press waits for the next step's page and for that page to have loaded."""
    from playwright.sync_api import expect

    position = page.locator("#step-position")
    shown = int(position.inner_text().split()[1])
    page.keyboard.press("ArrowRight")
    expect(position).to_have_text(re.compile(rf"^Step {shown + 1} of "))
    page.wait_for_load_state()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_keyboard_only_sign_in_and_session_cookie_flags(page, server: PortalServer) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    shot(page, "login")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Tab")  # the brand link
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "login"
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/contributors/alice")
    cookie = next(c for c in page.context.cookies() if c["name"] == "apprentice_session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert cookie["secure"] is False  # plain HTTP on loopback; Secure is set when the collector serves TLS
    # the skip link moves focus to the main content
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_wrong_password_is_refused_and_repeated_failures_are_throttled(page) -> None:  # type: ignore[no-untyped-def]
    for _ in range(5):
        page.goto("/login")
        page.get_by_label("Login").fill("throttled")
        page.get_by_label("Password").fill("wrong password here")
        page.get_by_role("button", name="Sign in").click()
        assert page.get_by_role("alert").inner_text().startswith("That login and password do not match")
    page.goto("/login")
    page.get_by_label("Login").fill("throttled")
    page.get_by_label("Password").fill("wrong password here")
    page.get_by_role("button", name="Sign in").click()
    assert "Too many failed attempts" in page.get_by_role("alert").inner_text()


def test_contributor_main_paths(page, server: PortalServer) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, "alice")
    assert page.url.endswith("/contributors/alice")
    assert "not accepted the current notice" in page.inner_text("main")
    # consent: read and accept
    page.get_by_role("link", name="Read the notice, accept or withdraw").click()
    shot(page, "contributor-consent")
    page.get_by_role("button", name="I accept this notice").click()
    assert "your consent is recorded" in page.get_by_role("status").inner_text()
    # pause with a chosen length, then resume: both become commands for the device
    page.get_by_role("link", name="My status").click()
    page.get_by_label("Pause for").select_option("15")
    page.get_by_role("button", name="Pause recording").click()
    assert "paused" in page.get_by_role("status").inner_text()
    assert "waiting for the device: pause" in page.inner_text("main")
    # an exemption request
    page.get_by_label("Why you ask").fill("I handle patient records on this machine.")
    page.get_by_role("button", name="Send request").click()
    assert "sent to the privacy officer" in page.get_by_role("status").inner_text()
    assert "patient records" in page.inner_text("main")
    shot(page, "contributor-status")
    page.get_by_role("button", name="Resume recording").click()
    assert "waiting for the device: resume" in page.inner_text("main")
    # export my data
    with page.expect_download() as download:
        page.get_by_role("link", name="Export my data (zip)").click()
    data = Path(download.value.path()).read_bytes()
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert any("consent" in n for n in names), names
    # my recordings: timeline, "not processed yet", delete a range with confirmation
    page.get_by_role("link", name="My recordings").first.click()
    assert "Not processed yet" in page.inner_text("main")
    assert "Uploaded recordings (4)" in page.inner_text("main")
    shot(page, "contributor-recordings")
    page.get_by_label("From (UTC)").fill("2026-03-01T06:30")
    page.get_by_label("Until (UTC)").fill("2026-03-01T08:30")
    page.get_by_role("button", name="Delete this time range…").click()
    assert "This deletes 2 recording(s)" in page.inner_text("main")
    shot(page, "contributor-delete-confirm")
    page.get_by_role("button", name="Yes, delete").click()
    assert "Uploaded recordings (2)" in page.inner_text("main")
    # who accessed my data: the page's own decisions are in the audit log, about alice
    page.get_by_role("link", name="Who accessed my data").click()
    table = page.inner_text("table")
    assert "delete_data" in table and "Contributor" in table
    shot(page, "contributor-access")


def test_a_contributor_cannot_open_another_contributors_page(page, server: PortalServer) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, "alice")
    before = len(server.collector.audit.records)
    response = page.goto("/contributors/bob")
    assert response is not None and response.status == 403
    assert "Not allowed" in page.inner_text("h1")
    assert "bob" not in page.inner_text("main").lower().replace("belongs", "")
    denied = [r for r in server.collector.audit.records[before:] if r.decision == "deny"]
    assert any(r.subject == "bob" and r.actor == f"account:{server.account_ids['alice']}" for r in denied)
    shot(page, "forbidden")
    # nor act on bob's behalf, even with her own valid CSRF token
    page.goto("/contributors/alice")
    token = page.locator("input[name=csrf_token]").first.input_value()
    response = page.request.post("/contributors/bob/pause", form={"csrf_token": token, "minutes": "15"})
    assert response.status == 403


def test_ml_engineer_cannot_open_a_contributor_page_and_it_is_audited(page, server: PortalServer) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, "mel")
    before = len(server.collector.audit.records)
    response = page.goto("/contributors/alice")
    assert response is not None and response.status == 403
    entries = server.collector.audit.records[before:]
    assert any(r.role == "MlEngineer" and r.subject == "alice" and r.decision == "deny" for r in entries)


def test_csrf_token_missing_or_wrong_is_refused(page, server: PortalServer) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, "alice")
    assert page.request.post("/contributors/alice/pause", form={"minutes": "15"}).status == 403
    assert page.request.post("/contributors/alice/pause",
                             form={"minutes": "15", "csrf_token": "forged"}).status == 403
    # the real token works
    token = page.locator("input[name=csrf_token]").first.input_value()
    assert page.request.post("/contributors/alice/resume", form={"csrf_token": token},
                             max_redirects=0).status == 303


def test_ml_engineer_main_paths(page, server: PortalServer) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, "mel")
    assert page.url.endswith("/datasets")
    shot(page, "ml-datasets")
    page.get_by_role("link", name="desktop").click()
    charts = page.locator("figure.chart svg")
    assert charts.count() == 3
    assert "Actions by type" in page.inner_text("main")
    shot(page, "ml-dataset-statistics")
    page.locator("a[href*='/episodes/']").first.click()
    assert "Step 1 of" in page.inner_text("#step-position")
    # keyboard: the right arrow steps forward until a click is drawn on the pre screenshot
    for _ in range(12):
        if page.locator("svg.overlay circle.click").count():
            break
        step_forward(page)
    assert page.locator("svg.overlay circle.click").count() == 1
    assert page.locator("img[alt^='Pre-action screenshot']").evaluate("i => i.naturalWidth") == 640
    shot(page, "ml-episode-viewer")
    for _ in range(16):
        if page.locator("svg.overlay polyline.drag").count():
            break
        step_forward(page)
    assert page.locator("svg.overlay polyline.drag").count() == 1
    shot(page, "ml-episode-viewer-drag")
    # build a new version with filters; progress is shown until it is done
    page.goto("/datasets")
    page.get_by_label("Outcome").select_option("success")
    page.get_by_role("button", name="Build").click()
    page.wait_for_url(re.compile(r".*/datasets/jobs/job-[0-9a-f]+$"))
    page.locator("#job-result").wait_for(state="visible")
    assert page.inner_text("#job-state") == "done"
    assert page.locator("#job-progress").get_attribute("value") is not None
    shot(page, "ml-build-progress")
    page.get_by_role("link", name="desktop/v2").click()
    assert "1 episodes" in page.inner_text("main")


def test_privacy_officer_main_paths(page, server: PortalServer) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    gov = server.collector.app.state.apprentice.governance
    gov.create_dpia("Recording work apps for agent training", "Scope, redaction, retention.", "test",
                    datetime.now(UTC))
    sign_in(page, "olivia")
    assert page.url.endswith("/officer")
    main = page.inner_text("main")
    assert "Not verifiable" in main  # the test app keeps audit records in memory, not the Merkle log
    assert "loopback bind or TLS" in main and "Devices enrolled" in main
    assert "alice" not in main and "bob" not in main  # aggregates only
    shot(page, "officer-overview")
    # policy editor: an invalid policy is explained inline, a valid one shows a diff before saving
    page.get_by_role("link", name="Policy").click()
    page.get_by_label(re.compile("Capture policy")).fill("version: 1\nallow:\n  apps: 3\n")
    page.get_by_role("button", name="Check and preview changes").click()
    assert page.get_by_label(re.compile("Capture policy")).get_attribute("aria-invalid") == "true"
    assert "Line" in page.inner_text("#policy-error")
    assert page.get_by_role("button", name="Save this policy").count() == 0
    page.get_by_label(re.compile("Capture policy")).fill(
        "version: 1\nallow:\n  domains:\n    - intranet.example.com\npause_cap_minutes: 20\n")
    page.get_by_role("button", name="Check and preview changes").click()
    assert "+pause_cap_minutes: 20" in page.inner_text("pre.diff")
    shot(page, "officer-policy-diff")
    page.get_by_role("button", name="Save this policy").click()
    assert "was saved" in page.inner_text("main")
    assert gov.current_policy().yaml.endswith("pause_cap_minutes: 20\n")
    # DPIA approval
    page.get_by_role("link", name="DPIA").click()
    page.get_by_role("button", name="Approve this DPIA").click()
    assert "approved" in page.inner_text("main")
    shot(page, "officer-dpia")
    # the exemption queue: alice's request (from the contributor test, or made here)
    if not gov.store.exemption_requests(contributor_id="alice", status="pending"):
        gov.request_exemption("alice", "I handle patient records on this machine.", datetime.now(UTC))
    page.get_by_role("link", name="Exemptions").click()
    shot(page, "officer-exemptions")
    before = len(server.collector.audit.records)
    page.get_by_role("button", name="Approve").first.click()
    assert "approved" in page.inner_text("table")
    after = server.collector.audit.records[before:]
    assert any(r.action == "approve" and r.subject == "alice" and r.decision == "allow" for r in after)
    # the same second entry the API writes for an allowed change (docs/governance.md)
    assert any(r.action == "changed:exemption_approved" and r.subject == "alice" for r in after)
    assert gov.is_exempt("alice")
