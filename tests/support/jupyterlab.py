"""JupyterLab in a real browser, for tests that look at the course as a learner does.

Two fixtures and a few page helpers, meant to be shared by every browser test:

* `lab`: a JupyterLab server from the course environment (started as `python3 course.py lab`
  starts it, see course.lab_args), on 127.0.0.1, a free port and a random token, whose root is
  an empty temporary folder: a test copies the notebooks it opens into it with
  `lab.add(path)`, so JupyterLab never saves over the repository's notebooks. Its own
  configuration, data and runtime folders are temporary too; MNIST_MIRROR passes through. It
  is shut down on every way out of the tests, kernels included.
* `page`: a fresh Chromium page (Debian's /usr/bin/chromium driven by Playwright, no
  download of Playwright's own browser), closed after the test. Without Chromium the tests
  are skipped with the command that installs it; in CI (CI set) they fail instead.

Page helpers: `open_notebook`, `menu` (click a menu entry of JupyterLab's own menu bar),
`run_all` (Kernel → Restart Kernel and Run All Cells, confirmed), `wait_until_run`,
`learner_view` (what is on the page: figures, errors, text) and `screenshot`.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
SCREENSHOTS = ROOT / "build" / "browser"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
INSTALL_HINT = ("no Chromium found: install Debian's (`sudo apt-get install chromium`) or set "
                "CHROMIUM to a Chromium or Chrome executable")


def find_chromium() -> str | None:
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    log: Path

    def add(self, notebook: Path) -> str:
        "Copy a notebook into the server's root; returns its name there."
        shutil.copy(notebook, self.root / notebook.name)
        return notebook.name

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?token={self.token}"

    def api(self, path: str):
        req = urllib.request.Request(f"{self.url}{path}", headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def log_tail(self, n: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-n:] if self.log.exists() else ""


def _stop(proc: subprocess.Popen) -> None:
    "Stop the server (it shuts its kernels down), then anything left of its process group."
    if proc.poll() is None:
        proc.terminate()  # jupyter_server stops on SIGTERM, shutting its kernels down
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # a kernel that outlived its server
    except (ProcessLookupError, PermissionError):
        pass


@contextlib.contextmanager
def running_lab(base: Path):
    """JupyterLab from the course environment, started as `course.py lab` starts it, with
    its root, configuration, data and runtime folders in `base`; stopped on the way out."""
    sys.path.insert(0, str(ROOT))
    try:
        import course
    finally:
        sys.path.remove(str(ROOT))
    root = base / "root"
    root.mkdir(parents=True)
    token, port = secrets.token_hex(16), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTEST"))}
    env.update(JUPYTER_CONFIG_DIR=str(base / "config"), JUPYTER_DATA_DIR=str(base / "data"),
               JUPYTER_RUNTIME_DIR=str(base / "runtime"), PYDEVD_DISABLE_FILE_VALIDATION="1")
    cmd = [sys.executable, "-m", *course.lab_args(root, open_folder=None), "--no-browser",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}"]
    log = base / "jupyterlab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    server = Lab(f"http://127.0.0.1:{port}", token, root, log)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {proc.returncode}:\n{server.log_tail()}")
            try:
                server.api("/api/status")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not answer within 90 s:\n{server.log_tail()}")
                time.sleep(0.3)
        yield server
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with running_lab(tmp_path_factory.mktemp("jupyterlab")) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail(INSTALL_HINT + " (.ci/run installs it)")
        pytest.skip(INSTALL_HINT)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is missing from the course environment: run `python3 course.py env`")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    p = context.new_page()
    try:
        yield p
    finally:
        context.close()


# ---- page helpers ------------------------------------------------------------------------------

def open_notebook(page, lab: Lab, name: str, timeout_s: float = 90) -> None:
    "Open a notebook of the server's root and wait for its kernel to be ready."
    page.goto(lab.notebook_url(name))
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=timeout_s * 1000)
    wait_for_idle_kernel(page, timeout_s)


def kernel_status(page) -> str | None:
    return page.evaluate("""() => {
        const el = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
        return el ? el.getAttribute('data-status') : null; }""")


def wait_for_idle_kernel(page, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while kernel_status(page) != "idle":
        if time.monotonic() > deadline:
            raise AssertionError(f"the kernel is still {kernel_status(page)!r} after {timeout_s:.0f} s")
        page.wait_for_timeout(250)


def menu(page, top: str, entry: str) -> None:
    "Click `top` in JupyterLab's menu bar, then the entry whose label starts with `entry`."
    page.locator(".lm-MenuBar-itemLabel", has_text=top).first.click()
    page.locator(".lm-Menu:not(.lm-MenuBar) .lm-Menu-itemLabel", has_text=entry).first.click()


def run_all(page) -> None:
    "Kernel → Restart Kernel and Run All Cells…, and confirm the dialog, as a learner does."
    menu(page, "Kernel", "Restart Kernel and Run All Cells")
    page.locator(".jp-Dialog .jp-mod-accept").click()


PROMPTS_JS = """() => Array.from(document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt')).map(e => e.textContent.trim())"""


def wait_until_run(page, n_code_cells: int, timeout_s: float = 600) -> list[str]:
    "Wait until every code cell shows an execution count and the kernel is idle."
    deadline = time.monotonic() + timeout_s
    while True:
        prompts = page.evaluate(PROMPTS_JS)
        done = [p for p in prompts if p.startswith("[") and p[1:-2].isdigit()]
        if len(prompts) == n_code_cells == len(done) and kernel_status(page) == "idle":
            return prompts
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout_s:.0f} s the cells show {prompts} "
                                 f"and the kernel is {kernel_status(page)!r}")
        page.wait_for_timeout(500)


VIEW_JS = """async () => {
    const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
    const imgs = Array.from(nb.querySelectorAll('.jp-OutputArea-output img'));
    // decode() succeeds only for an image the browser can draw, on screen or not.
    const drawable = await Promise.all(imgs.map(i => i.decode().then(() => i.naturalWidth > 0, () => false)));
    return {
      figures: drawable.filter(ok => ok).length,
      broken_figures: drawable.filter(ok => !ok).length,
      errors: Array.from(nb.querySelectorAll(
          '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
          .map(e => e.textContent.slice(0, 2000)),
      text: nb.textContent,
      page_text: document.body.textContent,
    }; }"""


def learner_view(page) -> dict:
    "What the learner has in front of them: figures drawn, error outputs, the notebook's text."
    return page.evaluate(VIEW_JS)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
