"""The documentation page, served by the agent itself, loads in headless Chromium.

Chromium cannot answer a Basic challenge headless, so it opens
`/docs?access_token=<token>` (RFC 6750 section 2.3, accepted for the docs
page, its assets and /openapi.json only); the page hands the token on. A
screenshot shows the API listed, and the rendered DOM holds the operations.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
import requests
from rest_helpers import RestAgent

CHROMIUM = shutil.which("chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--virtual-time-budget=20000",
]
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_docs_page_lists_the_api(
    rest_agent: RestAgent, admin_token: str, tmp_path: Path, base: str
) -> None:
    url = f"{base}/docs?access_token={admin_token}"
    screenshot = tmp_path / "docs.png"
    done = chromium(
        tmp_path / "profile", f"--screenshot={screenshot}", "--window-size=1280,1600", url
    )
    assert screenshot.exists(), done.stderr[-2000:]
    assert png_size(screenshot) == (1280, 1600)
    assert screenshot.stat().st_size > 50_000  # a rendered page, not a blank one

    dom = chromium(tmp_path / "profile", "--dump-dom", url).stdout
    assert 'class="info"' in dom and "FlyOS agent" in dom
    listed = dom.count('class="opblock-summary-path"')
    assert listed >= 200, f"only {listed} operations rendered"
    for path in ("/api/v1/route/add", "/restconf/data/flyos-routing:routing/static={prefix}"):
        assert f'data-path="{path}"' in dom
    assert admin_token not in dom.split('class="info"')[1].split("</div>")[0]


def test_docs_need_credentials(base: str) -> None:
    assert requests.get(f"{base}/docs").status_code == 401
    assert requests.get(f"{base}/openapi.json").status_code == 401
    assert requests.get(f"{base}/docs/static/swagger-ui.css").status_code == 401
    wrong = requests.get(f"{base}/docs?access_token=flyos_000000000000_nope")
    assert wrong.status_code == 401


def test_access_token_only_opens_the_docs(base: str, admin_token: str) -> None:
    token = {"access_token": admin_token}
    page = requests.get(f"{base}/docs", params=token)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "swagger-ui-bundle.js?access_token=" in page.text
    assert requests.get(f"{base}/docs/static/swagger-ui-bundle.js", params=token).status_code == 200
    assert requests.get(f"{base}/api/v1/route", params=token).status_code == 401
    assert requests.get(f"{base}/docs/static/nothing.js", params=token).status_code == 404
