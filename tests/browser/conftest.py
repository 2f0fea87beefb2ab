"""Real-browser tests: Playwright drives the system's headless Chromium (Debian's `chromium`).

No browser is downloaded: `executable_path` points at the installed one. Run with
`make test-browser`; `make test` does not collect this folder. Screenshots go to
``$BERTLAB_SCREENSHOTS`` (default /tmp/bertlab-screenshots), outside the repository.
"""

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def chromium_path() -> str:
    """The system Chromium, or a skip that says how to install it."""
    for name in (os.environ.get("BERTLAB_CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        if name and (path := shutil.which(name)):
            return path
    pytest.skip("no Chromium found: `apt-get install chromium` (or set BERTLAB_CHROMIUM=/path/to/chrome)")


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """The folder the tests save their screenshots to (kept out of the repository)."""
    folder = Path(os.environ.get("BERTLAB_SCREENSHOTS", "/tmp/bertlab-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium driven by Playwright, shared by the session."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -r requirements-teacher.txt")
    with sync_api.sync_playwright() as p:
        chrome = p.chromium.launch(executable_path=chromium_path(), headless=True,
                                   args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chrome
        chrome.close()
