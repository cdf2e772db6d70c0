"""Ctrl-C while `panel` starts: one line and exit 130, never a traceback from an import."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FAKE_KEY, PANEL
from tests.fake_anthropic import FakeAnthropic

# What the console script imports before any command runs, the third of a second a Ctrl-C is
# most likely to land in. Each is shadowed by a module that interrupts its own process, then
# loads the real one.
STARTUP_IMPORTS = ["asyncio", "pydantic", "typer", "rich", "jinja2", "platformdirs"]

INTERRUPTING_MODULE = """\
import importlib, os, signal, sys

os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, delivered while this import runs
# then the real module in this one's place, so startup goes on as it would
here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p) != here]
del sys.modules[__name__]
sys.modules[__name__] = importlib.import_module(__name__)
"""


def ctrl_c_reaches_the_child() -> None:
    """Undo an ignored SIGINT inherited from the launcher (a background job, nohup): Python then
    ignores Ctrl-C too, and these tests would test nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.e2e
@pytest.mark.parametrize("module", STARTUP_IMPORTS)
def test_ctrl_c_during_a_startup_import_is_one_line_and_exit_130(
    module: str, tmp_path: Path
) -> None:
    """Regression: Ctrl-C in the first ~0.1 s printed a KeyboardInterrupt traceback, exit -2."""
    (tmp_path / f"{module}.py").write_text(INTERRUPTING_MODULE)
    path = os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [PANEL, "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
        timeout=60,
        check=False,
        preexec_fn=ctrl_c_reaches_the_child,
    )
    assert (proc.returncode, proc.stderr, proc.stdout) == (130, "panel: interrupted\n", "")


def test_the_console_script_loads_no_dependency_before_main_can_catch_ctrl_c() -> None:
    """`from panel.cli import main`, all the script runs before `main`, imports only panel's
    entry point and errors: an interrupt before `main` has a window of a few milliseconds."""
    code = (
        "import json, sys; before = set(sys.modules); from panel.cli import main; "
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == ["__future__", "panel", "panel.cli", "panel.errors"]


@pytest.mark.e2e
def test_ctrl_c_while_a_review_waits_on_the_api_is_one_line(
    fake: FakeAnthropic, tmp_path: Path, isolated_env: Path
) -> None:
    """Ctrl-C once the review's calls are out (typer makes it an exit 130 of its own): the
    line saying so, exit 130, no traceback, and no half-written run."""
    import time

    fake.latency = (20.0, 20.0)
    page = tmp_path / "tool.md"
    page.write_text("# Tool\n\nTool does one thing well.\n" * 20)
    env = {
        **os.environ,
        "ANTHROPIC_API_KEY": FAKE_KEY,
        "ANTHROPIC_BASE_URL": fake.url,
        "PANEL_HOME": str(isolated_env),
    }
    proc = subprocess.Popen(
        [PANEL, "review", str(page)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=ctrl_c_reaches_the_child,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not fake.message_requests:
        time.sleep(0.02)
    assert fake.message_requests, "the review never called the API"
    assert fake.in_flight >= 1  # a call is inside the fake: the Ctrl-C lands mid-review
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert b"panel: interrupted" in stderr and b"Traceback" not in stderr
    assert not list(isolated_env.glob("*/*.json"))
