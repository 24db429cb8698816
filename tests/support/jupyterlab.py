"""JupyterLab in a real browser, for tests that look at the course as a learner does.

Fixtures, meant to be shared by every browser test:

* `lab`: a JupyterLab server from the course environment (started as `python3 course.py lab`
  starts it, see course.lab_args), on 127.0.0.1, a free port and a random token, whose root is
  an empty temporary folder: a test copies the notebooks it opens into it with
  `lab.add(path)`, so JupyterLab never saves over the repository's notebooks. Its own
  configuration, data and runtime folders are temporary too; MNIST_MIRROR passes through. It
  is shut down on every way out of the tests, kernels included: at the end of the module, on
  an error or Ctrl-C, and (Linux) when the test process itself is killed.
* `page`: a fresh Chromium page (Debian's /usr/bin/chromium, or $CHROMIUM, driven by
  Playwright; Playwright's own browser download is never used), in its own JupyterLab
  workspace, so no tab of an earlier test is restored. When the test fails, a screenshot and
  a Playwright trace (`playwright show-trace FILE`; with COURSE_BROWSER_TRACE=1 it also holds
  DOM snapshots and a screencast) land in build/browser/. Without Chromium
  the tests are skipped with the command that installs it; in CI (CI set) they fail instead.
* `outside_requests`: every URL the page asked for that is not the JupyterLab server's.

Page helpers: `open_notebook`, `menu` (click an entry of JupyterLab's own menu bar),
`clear_outputs`, `run_all` (Run → Run All Cells, on the kernel the notebook opened with),
`wait_until_run` (which gives up within a minute, with what the server logged, when the page
loses its kernel), `run_as_learner` (all of these in a row), `learner_view` (what is on the
page: figures, errors, text) and `screenshot`.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
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
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-first-run", "--disable-quic"]
TRACE_ENV = "COURSE_BROWSER_TRACE"  # set (to 1) for DOM snapshots and screenshots in the traces
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

    def notebook_url(self, name: str, workspace: str) -> str:
        return f"{self.url}/lab/workspaces/{workspace}/tree/{name}?token={self.token}"

    def api(self, path: str, method: str = "GET"):
        req = urllib.request.Request(f"{self.url}{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=20) as r:
            body = r.read()
        return json.loads(body) if body else None

    def kernel_connected(self, name: str) -> bool:
        "Whether the notebook `name` has a session whose kernel is idle with a page connected."
        with contextlib.suppress(OSError, ValueError):
            for s in self.api("/api/sessions"):
                k = s.get("kernel") or {}
                if s.get("path") == name and k.get("connections", 0) > 0 and k.get("execution_state") == "idle":
                    return True
        return False

    def shutdown_kernels(self) -> None:
        "Close every session and kernel (a test's notebook must not keep a CPU busy for the next)."
        with contextlib.suppress(OSError):
            for s in self.api("/api/sessions"):
                self.api(f"/api/sessions/{s['id']}", "DELETE")
            for k in self.api("/api/kernels"):
                self.api(f"/api/kernels/{k['id']}", "DELETE")

    def log_tail(self, n: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-n:] if self.log.exists() else ""


def _die_with_parent() -> None:
    "In the server's process, before it starts: get SIGTERM when the test process dies (Linux)."
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _kernels_of(runtime: Path) -> list[int]:
    "Processes whose command line names a connection file in `runtime` (our kernels), Linux only."
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            if str(runtime) in proc.joinpath("cmdline").read_bytes().decode(errors="replace"):
                pids.append(int(proc.name))
    return pids


def _stop(proc: subprocess.Popen, runtime: Path) -> None:
    "Stop the server (it shuts its kernels down), then anything left of it and of its kernels."
    if proc.poll() is None:
        proc.terminate()  # jupyter_server stops on SIGTERM, shutting its kernels down
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # whatever else the server started in its group
    for pid in _kernels_of(runtime):  # kernels live in sessions of their own
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def running_lab(base: Path):
    """JupyterLab from the course environment, started as `course.py lab` starts it, with
    its root, configuration, data and runtime folders in `base`; stopped on the way out."""
    sys.path.insert(0, str(ROOT))
    try:
        import course
    finally:
        sys.path.remove(str(ROOT))
    root, runtime = base / "root", base / "runtime"
    root.mkdir(parents=True)
    # Render every cell, not only those near the screen (JupyterLab's "windowing"): a widget
    # further down must exist on the page however fast the run was and wherever it scrolled.
    settings = base / "config" / "lab" / "user-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    token, port = secrets.token_hex(16), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTEST"))}
    env.update(JUPYTER_CONFIG_DIR=str(base / "config"), JUPYTER_DATA_DIR=str(base / "data"),
               JUPYTER_RUNTIME_DIR=str(runtime), PYDEVD_DISABLE_FILE_VALIDATION="1")
    cmd = [sys.executable, "-m", *course.lab_args(root, open_folder=None), "--no-browser",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}"]
    log = base / "jupyterlab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=_die_with_parent if sys.platform == "linux" else None)
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
        _stop(proc, runtime)


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
def page(browser, lab, request):
    """A new page in a new browser context. On a failure of the test: a screenshot, a trace and
    the end of JupyterLab's log. Afterwards the test's kernels are shut down."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, has_touch=True)
    # The trace always holds the actions, console and network; DOM snapshots and a screencast
    # (a heavy page's DOM copied at each poll, a busy renderer) only when asked for.
    full = bool(os.environ.get(TRACE_ENV))
    context.tracing.start(screenshots=full, snapshots=full)
    p = context.new_page()
    p.workspace = f"test-{secrets.token_hex(4)}"  # JupyterLab restores no tab of another test
    failed_before = request.session.testsfailed
    try:
        yield p
    finally:
        name = re.sub(r"\W+", "-", request.node.name).strip("-")
        try:
            if request.session.testsfailed > failed_before:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                with contextlib.suppress(Exception):
                    p.screenshot(path=str(SCREENSHOTS / f"{name}-failure.png"))
                trace = SCREENSHOTS / f"{name}-trace.zip"
                context.tracing.stop(path=str(trace))
                print(f"screenshot and trace of the failure: {SCREENSHOTS.relative_to(ROOT)}/{name}-*"
                      f"\n--- JupyterLab's log, last lines:\n{lab.log_tail()}")
            else:
                context.tracing.stop()
        finally:
            context.close()
            lab.shutdown_kernels()


@pytest.fixture
def outside_requests(page, lab):
    "The URLs the page requests from anywhere but the JupyterLab server (data: and blob: aside)."
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url)
            if not r.url.startswith((lab.url, "data:", "blob:")) else None)
    return seen


# ---- page helpers ------------------------------------------------------------------------------

def open_notebook(page, lab: Lab, name: str, timeout_s: float = 90) -> None:
    """Open a notebook of the server's root and wait for its kernel to be ready: the server has
    a kernel for it with the page connected, and the page shows it idle. (The page's status
    reads "idle" for a moment before any kernel exists; a Run All clicked then runs nothing.)"""
    page.goto(lab.notebook_url(name, getattr(page, "workspace", "test")))
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    while not lab.kernel_connected(name):
        if time.monotonic() > deadline:
            raise AssertionError(f"no kernel connected to {name} after {timeout_s:.0f} s:\n{server_trouble(lab)}")
        page.wait_for_timeout(250)
    wait_for_idle_kernel(page, max(deadline - time.monotonic(), 10))


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


def menu(page, top: str, entry: str, exact: bool = False) -> None:
    "Click `top` in JupyterLab's menu bar, then the entry whose label contains (or, if `exact`, is) `entry`."
    page.locator(".lm-MenuBar-itemLabel", has_text=top).first.click()
    label = re.compile(rf"^{re.escape(entry)}$") if exact else entry
    page.locator(".lm-Menu:not(.lm-MenuBar) .lm-Menu-itemLabel", has_text=label).first.click()


def clear_outputs(page) -> None:
    "Edit → Clear Outputs of All Cells: without it the stored prompts would look finished at once."
    menu(page, "Edit", "Clear Outputs of All Cells")
    page.wait_for_function(f"() => ({PROMPTS_JS})().every(p => p === '[ ]:')", timeout=10_000)


def run_all(page) -> None:
    """Run → Run All Cells, on the fresh kernel the notebook was opened with, as a learner does
    after opening it. Not Kernel → Restart Kernel and Run All: a restart makes the page open a
    new websocket for the same session, the server closes the old one ("Replacing stale
    connection"), and a message still arriving on the closed one is decoded in the legacy format
    (jupyter_server reads the protocol from a connection that no longer exists:
    `struct.error: unpack requires a buffer of …` in its log); about one run in two the page
    then waited for a kernel that never answered. A fresh kernel gives the same clean run."""
    menu(page, "Run", "Run All Cells", exact=True)


PROMPTS_JS = """() => Array.from(document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt')).map(e => e.textContent.trim())"""
DONE = re.compile(r"\[\d+\]:")
# What JupyterLab shows while it has no working connection to the kernel ("unknown" while it
# reconnects or after it gave up; "dead" when the kernel is gone; "starting" when it never came
# up, or its connection died during a restart), and how long a run may show it before the
# kernel counts as lost.
LOST_STATUSES = {None, "unknown", "dead", "starting"}
LOST_AFTER_S = 40
# Lines of the server's log that say what went wrong with a kernel or its connection.
SERVER_TROUBLE = re.compile(r"Traceback|Error|error|Replacing stale connection|Kernel (?:died|restarted)|"
                            r"Starting buffering|Restoring connection|Discarding \d+ buffered")


def server_trouble(lab: Lab | None, n: int = 40) -> str:
    "The last `n` lines of the server's log that name an error or a connection event, or ''."
    if lab is None:
        return ""
    lines = lab.log_tail(200_000).splitlines()
    picked = [l for l in lines if SERVER_TROUBLE.search(l)]
    return "\n".join(picked[-n:])


def _lost(status, prompts, waited_s: float, lab: Lab | None) -> AssertionError:
    trouble = server_trouble(lab)
    return AssertionError(
        f"the kernel was lost: JupyterLab has shown its status as {status!r} for {waited_s:.0f} s "
        f"(no working connection between the page and the kernel); the cells show {prompts}"
        + (f"\n--- what the server logged:\n{trouble}" if trouble else ""))


def wait_until_run(page, timeout_s: float = 600, lab: Lab | None = None) -> list[str]:
    """After run_all: wait until the run has started, then until the kernel is idle with no
    cell waiting ("[*]") for a second. Returns the cells' prompts ("[1]:", ... or "[ ]:" for a
    cell that a failing cell above stopped).

    Fails within LOST_AFTER_S seconds, not at `timeout_s`, when the kernel is lost: when the
    page shows its status as unknown, dead or starting for that long, the kernel will not finish the
    run. The message then holds what the server logged about it (pass `lab`)."""
    start = time.monotonic()
    deadline = start + timeout_s
    lost_since = None

    def state():
        nonlocal lost_since
        prompts, status = page.evaluate(PROMPTS_JS), kernel_status(page)
        now = time.monotonic()
        if status not in LOST_STATUSES:
            lost_since = None
        elif lost_since is None:
            lost_since = now
        elif now - lost_since > LOST_AFTER_S:
            raise _lost(status, prompts, now - lost_since, lab)
        return prompts, status

    while True:  # 1. the first cell: a prompt turns "[*]:" or gets a number
        prompts, status = state()
        if any(p == "[*]:" or DONE.fullmatch(p) for p in prompts):
            break
        if time.monotonic() > start + 60:
            trouble = server_trouble(lab)
            raise AssertionError(f"the run did not start within 60 s: the kernel is {status!r}, "
                                 f"the prompts are {prompts}"
                                 + (f"\n--- what the server logged:\n{trouble}" if trouble else ""))
        page.wait_for_timeout(250)
    quiet = 0
    while True:  # 2. every cell done (or stopped by an error above it), the kernel idle
        prompts, status = state()
        quiet = quiet + 1 if status == "idle" and "[*]:" not in prompts else 0
        if quiet >= 3:
            return prompts
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout_s:.0f} s the kernel is {status!r} and the cells "
                                 f"show {prompts}")
        page.wait_for_timeout(400)


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
      output_text: Array.from(nb.querySelectorAll('.jp-OutputArea-output')).map(e => e.textContent).join(' '),
      page_text: document.body.textContent,
    }; }"""


def learner_view(page) -> dict:
    """What the learner has in front of them: figures drawn (and broken ones), error outputs,
    the notebook's text, its outputs' text alone, and the whole page's text."""
    return page.evaluate(VIEW_JS)


def stored_counts(nb_path: Path) -> dict:
    "Code cells, image outputs and error/stderr outputs of a stored notebook."
    nb = json.loads(nb_path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    outputs = [o for c in code for o in c.get("outputs", [])]
    return {"code_cells": len(code),
            "images": sum(1 for o in outputs if any(k.startswith("image/") for k in o.get("data", {}))),
            "errors": sum(1 for o in outputs if o.get("name") == "stderr" or o["output_type"] == "error")}


def run_as_learner(page, lab: Lab, nb_path: Path, timeout_s: float = 600) -> dict:
    """Open a copy of the notebook (which starts a fresh kernel), clear its outputs and run it
    with Run → Run All Cells; check that every cell ran, in order. Returns the stored notebook's
    counts (stored_counts)."""
    counts = stored_counts(nb_path)
    open_notebook(page, lab, lab.add(nb_path))
    clear_outputs(page)
    assert learner_view(page)["figures"] == 0, "clearing the outputs left figures on the page"
    run_all(page)
    prompts = wait_until_run(page, timeout_s, lab)
    n = counts["code_cells"]
    if prompts != [f"[{i}]:" for i in range(1, n + 1)]:
        errors = "\n---\n".join(learner_view(page)["errors"])
        raise AssertionError(f"{nb_path.name}: not every cell ran: {prompts}\n{errors}")
    return counts


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
