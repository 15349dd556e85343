"""The HTML report in a real headless Chromium: a portal user's script is inert, nothing is
fetched, and a screenshot is kept as a test artifact (``test-artifacts/``, or the folder
``HUBAUDIT_TEST_ARTIFACTS`` names).

Chromium is Debian's ``chromium``, which ``.ci/run`` installs; without it these tests skip,
except in CI (``CI=true``), where they fail."""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubaudit.report import render

from .conftest import IN_CI, REPO
from .report_fixture import rich_result

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=3000",
)


@pytest.fixture
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "Chromium is not installed (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message + " (CI=true: the browser test must run)")
        pytest.skip(message)
    return found


@pytest.fixture
def beacon() -> Iterator[tuple[str, list[str]]]:
    """A local server that records every request: any fetch the report makes lands here."""
    hits: list[str] = []

    class Record(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"seen")

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Record)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/beacon", hits
    finally:
        server.shutdown()
        server.server_close()


def browse(chromium: str, page: Path, profile: Path, *extra: str) -> str:
    completed = subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def artifacts() -> Path:
    folder = Path(os.environ.get("HUBAUDIT_TEST_ARTIFACTS", REPO / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_beacon_sees_a_page_that_does_fetch(
    chromium: str, beacon: tuple[str, list[str]], tmp_path: Path
) -> None:
    """The check below can fail: an unescaped image does reach the beacon."""
    url, hits = beacon
    page = tmp_path / "control.html"
    page.write_text(f'<!doctype html><img src="{url}/control"><p>control</p>', encoding="utf-8")
    browse(chromium, page, tmp_path / "profile", "--dump-dom")
    assert "/beacon/control" in hits


def test_a_script_injection_label_is_inert_and_nothing_is_fetched(
    chromium: str, beacon: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, hits = beacon
    page = tmp_path / "report.html"
    from .report_fixture import hostile

    page.write_text(render(rich_result(hostile(url)), "html"), encoding="utf-8")
    dom = browse(chromium, page, tmp_path / "profile", "--dump-dom")
    assert "<title>hubaudit drift report: acme</title>" in dom
    assert "data-pwned" not in dom.split("<body", 1)[1].split(">", 1)[0]
    assert "PWNED" not in dom.split("<title>", 1)[1].split("</title>", 1)[0]
    assert '&lt;script&gt;document.title="PWNED"&lt;/script&gt;' in dom  # shown, as text
    assert "Unplanned changes" in dom and "Governance KPIs" in dom
    assert hits == []

    shot = artifacts() / "report.png"
    shot.unlink(missing_ok=True)
    browse(
        chromium,
        page,
        tmp_path / "profile2",
        f"--screenshot={shot}",
        "--window-size=1280,2400",
        "--hide-scrollbars",
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
    assert hits == []


@pytest.mark.slow
def test_the_demo_report_reads_at_desktop_and_phone_widths(
    chromium: str, beacon: tuple[str, list[str]], tmp_path: Path
) -> None:
    """Screenshots of the demo's HTML report at 1400 px and at 390 px (a phone), kept as test
    artifacts (``demo-1400.png``, ``demo-390.png``) for a person to look at: triage first, the
    handled drift collapsed, tables reflowed into cards on the phone."""
    import io

    from hubaudit.demo import run_demo

    _url, hits = beacon
    result = run_demo(tmp_path / "demo", io.StringIO())
    page = tmp_path / "demo.html"
    page.write_text(render(result, "html"), encoding="utf-8")
    dom = browse(chromium, page, tmp_path / "profile", "--dump-dom")
    assert dom.index("Act now") < dom.index("Other new drift") < dom.index("By person")
    for width, height in ((1400, 5000), (390, 9000)):
        shot = artifacts() / f"demo-{width}.png"
        shot.unlink(missing_ok=True)
        browse(
            chromium,
            page,
            tmp_path / f"profile-{width}",
            f"--screenshot={shot}",
            f"--window-size={width},{height}",
            "--hide-scrollbars",
        )
        png = shot.read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(png[16:20], "big") == width  # the page laid out at that width
        assert shot.stat().st_size > 50_000
    assert hits == []
