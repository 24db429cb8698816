"""The browser tests' patience, without a browser: `wait_until_run` waits out a long run, lets a
restart pass through "unknown", and gives up within a minute, with what the server logged, when
the page has lost its kernel (as when a run once hung for ten minutes on a dropped connection)."""
from __future__ import annotations

import time

import pytest

import support.jupyterlab as jl


class FakePage:
    "Plays back (prompts, kernel status) pairs, one per poll, the last one for ever."

    def __init__(self, states):
        self.states, self.polls = list(states), 0

    def evaluate(self, js):
        prompts, status = self.states[min(self.polls // 2, len(self.states) - 1)]
        self.polls += 1
        return prompts if js == jl.PROMPTS_JS else status

    def wait_for_timeout(self, ms):
        time.sleep(ms / 1000 / 50)   # fifty times faster than a page


@pytest.fixture
def fast(monkeypatch):
    monkeypatch.setattr(jl, "kernel_status", lambda page: page.evaluate("status"))
    monkeypatch.setattr(jl, "LOST_AFTER_S", 0.3)


def lab_with_log(tmp_path, text):
    log = tmp_path / "jupyterlab.log"
    log.write_text(text)
    return jl.Lab("http://127.0.0.1:1", "t", tmp_path, log)


def test_a_run_that_finishes_returns_its_prompts(fast):
    page = FakePage([(["[ ]:", "[ ]:"], "restarting"), (["[ ]:", "[ ]:"], "unknown"),
                     (["[*]:", "[*]:"], "busy"), (["[1]:", "[*]:"], "busy"), (["[1]:", "[2]:"], "idle")])
    assert jl.wait_until_run(page, timeout_s=30) == ["[1]:", "[2]:"]


def test_a_lost_kernel_fails_soon_with_the_servers_log(fast, tmp_path):
    lab = lab_with_log(tmp_path, "\n".join([
        "[I 15:00:01 ServerApp] Kernel restarted: abc",
        "[W 15:00:02 ServerApp] Replacing stale connection: abc:def",
        "[E 15:00:02 ServerApp] Uncaught exception GET /api/kernels/abc/channels",
        "    struct.error: unpack requires a buffer of 402653184 bytes",
        "[I 15:00:03 ServerApp] a line about nothing in particular",
    ]))
    page = FakePage([(["[*]:", "[*]:"], "busy"), (["[1]:", "[*]:"], "unknown")])
    start = time.monotonic()
    with pytest.raises(AssertionError) as info:
        jl.wait_until_run(page, timeout_s=600, lab=lab)
    assert time.monotonic() - start < 10          # not the run's ten minutes
    message = str(info.value)
    assert message.startswith("the kernel was lost: JupyterLab has shown its status as 'unknown'")
    assert "['[1]:', '[*]:']" in message
    assert "Replacing stale connection" in message and "struct.error" in message
    assert "nothing in particular" not in message


def test_a_lost_kernel_before_the_run_starts_fails_too(fast):
    page = FakePage([(["[ ]:"], "dead")])
    with pytest.raises(AssertionError, match="the kernel was lost"):
        jl.wait_until_run(page, timeout_s=600)


def test_a_short_unknown_during_the_run_is_not_a_loss(fast):
    page = FakePage([(["[*]:", "[*]:"], "busy"), (["[1]:", "[*]:"], "unknown"),
                     (["[1]:", "[*]:"], "busy"), (["[1]:", "[*]:"], "busy"), (["[1]:", "[*]:"], "busy"),
                     (["[1]:", "[2]:"], "idle")])
    assert jl.wait_until_run(page, timeout_s=30) == ["[1]:", "[2]:"]
