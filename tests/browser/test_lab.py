"""(a) `make lab` serves JupyterLab, and a person can run notebook 00 in it.

The test starts `make lab` exactly as a learner does (plus a random token, a free loopback port and
the offline switches `make test` uses), opens it in headless Chromium and checks what a learner sees:

- the file browser lists only the Chinese edition's folder `zh/` and the numbered notebooks, in order
  (no paired `.py`, no `conftest.py`);
- JupyterLab does not ask "Would you like to get notified about official Jupyter news?";
- `00_welcome.ipynb` opens, its kernel starts, and its first code cells, run one by one with
  Shift+Enter, print what the committed notebook's stored outputs say, with no traceback.

The server serves a temporary copy of `notebooks/` (``--ServerApp.root_dir``), so neither
JupyterLab's autosave nor its checkpoints can touch the committed notebooks; JupyterLab's user
settings, workspaces and runtime files also live in the temporary folder, so every run starts like
a learner's first launch. Screenshots go to the `screenshots` folder (outside the repository).
"""

import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
WELCOME = "00_welcome.ipynb"
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
NEWS_PROMPT = "official Jupyter news"
CELLS_TO_RUN = 4  # imports and set-up, versions, the asset table, the Hub-name message

# The CPU may be shared (CI, other jobs): every wait is bounded but generous.
SERVER_START_S = 180  # `make lab` runs `make fetch` first (fast when the assets are cached)
PAGE_S = 120
KERNEL_S = 120
CELL_S = 180


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(server: subprocess.Popen, api: str, token: str) -> None:
    """Shut JupyterLab down (kernels included), then make sure its whole process group is gone.

    `server` is `make`, the leader of a new process group; JupyterLab runs in that group, and
    may outlive `make` (e.g. when a SIGTERM kills `make` at once), so the group is what is watched.
    """
    pgid = server.pid
    try:
        request = urllib.request.Request(f"{api}/shutdown", data=b"", method="POST",
                                         headers={"Authorization": f"token {token}"})
        urllib.request.urlopen(request, timeout=10).close()
    except OSError:
        pass
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None:
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            server.poll()  # reap `make`, so a zombie does not keep the group alive
            if not group_alive(pgid):
                return
            time.sleep(0.5)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`make lab` serving a temporary copy of notebooks/; yields (base URL, token, served folder)."""
    tmp = tmp_path_factory.mktemp("lab")
    served = tmp / "notebooks"
    shutil.copytree(NOTEBOOKS, served, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    checkpoints_before = (NOTEBOOKS / ".ipynb_checkpoints").exists()

    token = secrets.token_hex(16)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env.update(OFFLINE)
    env.update(JUPYTERLAB_SETTINGS_DIR=str(tmp / "user-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(tmp / "runtime"))
    lab_args = " ".join([f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False",
                         f"--ServerApp.root_dir={shlex.quote(str(served))}"])
    log_path = tmp / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(["make", "--no-print-directory", "lab", f"PORT={port}", f"LAB_ARGS={lab_args}"],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
    api = f"{base}/api"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            try:
                status = json.loads(get(f"{api}/status?token={token}"))
                break
            except (OSError, ValueError):
                pass
            tail = log_path.read_text(errors="replace")[-3000:]
            assert server.poll() is None, f"`make lab` exited with {server.returncode}:\n{tail}"
            assert time.monotonic() < deadline, f"JupyterLab did not answer within {SERVER_START_S} s:\n{tail}"
            time.sleep(1)
        assert "started" in status
        served_from = json.loads(get(f"{api}/contents?token={token}&content=1"))
        assert {item["name"] for item in served_from["content"]} == {p.name for p in served.iterdir()}
        yield base, token, served, log_path
    finally:
        stop(server, api, token)
    assert checkpoints_before or not (NOTEBOOKS / ".ipynb_checkpoints").exists(), \
        "JupyterLab wrote checkpoints into the committed notebooks/ folder"


@pytest.fixture
def page(browser, screenshots, request):
    """A fresh browser tab; if the test fails, a screenshot and the page's HTML are kept for debugging."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(PAGE_S * 1000)
    tab = context.new_page()
    failed_before = request.session.testsfailed
    yield tab
    if request.session.testsfailed > failed_before:
        try:
            tab.screenshot(path=str(screenshots / f"FAILED_{request.node.name}.png"))
            (screenshots / f"FAILED_{request.node.name}.html").write_text(tab.content())
        except Exception:  # the page may be gone; the assertion message is what matters
            pass
    context.close()


def numbered_notebooks(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("[0-9][0-9]*.ipynb"))


def wait_until(condition, timeout_s: float, message) -> None:
    """Poll `condition` every half second; fail with `message()` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, message()
        time.sleep(0.5)


def widen_file_browser(page) -> None:
    """Drag the sidebar's edge so screenshots show the notebooks' names in full."""
    edge = page.locator("#jp-left-stack").bounding_box()
    if edge:
        x, y = edge["x"] + edge["width"] + 1, edge["y"] + edge["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 160, y, steps=5)
        page.mouse.up()


def test_file_browser_lists_only_the_notebooks(lab, page, screenshots):
    base, token, served, _ = lab
    expected = numbered_notebooks(served)
    assert len(expected) >= 10, expected
    assert numbered_notebooks(served / "zh") == expected
    expected = ["zh", *expected]   # JupyterLab lists folders first

    page.goto(f"{base}/lab?token={token}")
    names = page.locator(".jp-DirListing-content .jp-DirListing-itemName")
    names.first.wait_for()

    def listed() -> list[str]:  # the listing fills in asynchronously
        return [name.strip() for name in names.all_inner_texts()]

    wait_until(lambda: listed() == expected, PAGE_S, lambda: f"the file browser lists {listed()}, not {expected}")
    assert not any(name.endswith(".py") for name in listed())

    # The news prompt is a toast shown shortly after start-up: give it time to appear, then look.
    page.wait_for_timeout(8000)
    assert NEWS_PROMPT not in page.locator("body").inner_text()
    assert page.get_by_text(NEWS_PROMPT).count() == 0
    # jupyter/overrides.json (copied by `make lab`) is what switched it off: Never fetch, never ask.
    notification = json.loads(get(f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification"
                                  f"?token={token}"))["schema"]["properties"]
    assert notification["fetchNews"]["default"] == "false"
    assert notification["checkForUpdates"]["default"] is False

    widen_file_browser(page)
    page.screenshot(path=str(screenshots / "lab_file_browser.png"), full_page=True)


def stable_fragments(cell: dict) -> list[str]:
    """Text the browser must show for a code cell: what its stored outputs say that cannot vary.

    Deterministic stdout (cells nbval compares) is expected line by line. In a cell marked
    ``# NBVAL_IGNORE_OUTPUT`` only the labels before each ``:`` are (the values are versions or
    floats). For results (tables, reprs), the words of their text/plain form, without numbers.
    """
    source = "".join(cell["source"])
    ignored = source.splitlines()[0].strip() == "# NBVAL_IGNORE_OUTPUT" if source else False
    fragments = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream" and output["name"] == "stdout":
            for line in "".join(output["text"]).splitlines():
                if ignored:
                    line = line.split(":")[0] if ":" in line else ""
                if line.strip():
                    fragments.append(" ".join(line.split()))
        elif output["output_type"] in ("execute_result", "display_data"):
            text = "".join(output.get("data", {}).get("text/plain", ""))
            fragments += re.findall(r"(?<![\w.-])[A-Za-z]{3,}(?![\w.-])", text)
    return list(dict.fromkeys(fragments))


def wait_for_text(locator, fragments: list[str], timeout_s: float) -> str:
    """The locator's text once it contains every fragment (whitespace-normalised), or what it showed."""
    deadline = time.monotonic() + timeout_s
    while True:
        text = " ".join(locator.inner_text().split())
        if all(f in text for f in fragments) or time.monotonic() > deadline:
            return text
        time.sleep(0.5)


def test_welcome_notebook_runs(lab, page, screenshots):
    base, token, served, _ = lab
    notebook = json.loads((served / WELCOME).read_text())
    code_cells = [c for c in notebook["cells"] if c["cell_type"] == "code"][:CELLS_TO_RUN]
    expected = [stable_fragments(c) for c in code_cells]
    assert all(expected), f"the stored notebook lacks outputs for its first code cells: {expected}"
    assert "bertlab: profile quick" in expected[0][0]

    page.goto(f"{base}/lab/tree/{WELCOME}?token={token}")
    notebook_panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    cells = notebook_panel.locator(".jp-Notebook .jp-CodeCell")
    cells.first.wait_for()
    n_code = sum(c["cell_type"] == "code" for c in notebook["cells"])
    wait_until(lambda: cells.count() == n_code, PAGE_S, lambda: f"{cells.count()} of {n_code} code cells rendered")
    indicator = notebook_panel.locator(".jp-Notebook-ExecutionIndicator")
    indicator.and_(page.locator('[data-status="idle"]')).wait_for(timeout=KERNEL_S * 1000)

    # Start from a clean page, as a learner who clears the stored outputs would.
    page.get_by_role("menuitem", name="Edit", exact=True).click()
    page.get_by_role("menuitem", name="Clear Outputs of All Cells").click()
    outputs = notebook_panel.locator(".jp-Notebook .jp-OutputArea-output")
    wait_until(lambda: outputs.count() == 0, PAGE_S, lambda: f"{outputs.count()} outputs left after clearing")

    for i, fragments in enumerate(expected):
        cell = cells.nth(i)
        cell.locator(".jp-InputPrompt").click()
        page.keyboard.press("Shift+Enter")
        prompt = cell.locator(".jp-InputPrompt")
        wait_until(lambda: re.fullmatch(rf"\[\s*{i + 1}\s*\]:", prompt.inner_text().strip()), CELL_S,
                   lambda: f"code cell {i + 1} did not finish: its prompt shows {prompt.inner_text()!r}")
        outputs = cell.locator(".jp-OutputArea")
        shown = wait_for_text(outputs, fragments, 30)
        assert "Traceback" not in shown, f"code cell {i + 1} raised:\n{shown}"
        assert cell.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]').count() == 0
        missing = [f for f in fragments if f not in shown]
        assert not missing, f"code cell {i + 1} shows {shown!r}\nbut its stored output also has {missing}"
    indicator.and_(page.locator('[data-status="idle"]')).wait_for(timeout=KERNEL_S * 1000)

    # Scroll so the first (then the last) cell that ran is at the top of each picture.
    widen_file_browser(page)
    for shot, cell in (("lab_00_welcome_run.png", cells.first),
                       ("lab_00_welcome_run_end.png", cells.nth(len(expected) - 1))):
        cell.evaluate("cell => cell.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(500)
        page.screenshot(path=str(screenshots / shot), full_page=True)
