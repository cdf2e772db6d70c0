"""Issue 20, end to end: every command that writes meets a full disk or a home it may not write
with one line saying what is wrong and what to do, exit 2; never "a bug in panel" or a trace.

A full disk without filling one: RLIMIT_FSIZE makes the kernel refuse file growth (EFBIG, and
SQLite's I/O error), and a `sitecustomize` on the child's PYTHONPATH makes every write under one
directory fail with ENOSPC. Tests run as root, which ignores mode bits: a home under /sys is one
the kernel refuses to create (EPERM) whoever asks.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import FAKE_KEY, PANEL, Result
from tests.fake_anthropic import FakeAnthropic

pytestmark = pytest.mark.e2e
Cli = Callable[..., Result]

# A sitecustomize for the child: opening a file for writing under $FULL_DIR fails with ENOSPC.
SITECUSTOMIZE = """
import builtins, errno, io, os
_full = os.environ["FULL_DIR"]
_os_open, _open = os.open, builtins.open
def _refuse(path):
    if os.path.abspath(os.fspath(path)).startswith(_full):
        raise OSError(errno.ENOSPC, "No space left on device", os.fspath(path))
def os_open(path, flags, *args, **kwargs):
    if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
        _refuse(path)
    return _os_open(path, flags, *args, **kwargs)
def open_(file, mode="r", *args, **kwargs):
    if not isinstance(file, int) and any(c in mode for c in "wax+"):
        _refuse(file)
    return _open(file, mode, *args, **kwargs)
os.open, builtins.open, io.open = os_open, open_, open_
"""


def limited_file_size(limit: int) -> Callable[[], None]:
    """A child whose files cannot grow past `limit` bytes: writes fail as on a full disk."""

    def apply() -> None:
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def run(
    fake: FakeAnthropic,
    home: Path,
    cwd: Path,
    *args: str,
    limit: int | None = None,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
) -> Result:
    full_env = {
        **os.environ,
        "ANTHROPIC_API_KEY": FAKE_KEY,
        "ANTHROPIC_BASE_URL": fake.url,
        "PANEL_HOME": str(home),
        **(env or {}),
    }
    proc = subprocess.run(
        [PANEL, *args],
        env=full_env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limited_file_size(limit) if limit is not None else None,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def assert_one_clear_line(result: Result, *phrases: str) -> str:
    """Exit 2 and one error line holding every phrase; no trace, no `a bug in panel`."""
    assert result.code == 2, result.stderr
    assert "Traceback" not in result.stderr and "a bug in panel" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("panel: error:")]
    assert len(errors) == 1, result.stderr
    for phrase in phrases:
        assert phrase in errors[0], errors[0]
    return errors[0]


@pytest.fixture
def tool(tmp_path: Path) -> Path:
    path = tmp_path / "acme.md"
    path.write_text("# Acme\n\nAcme turns a backlog into reviewed widgets.\n")
    return path


@pytest.fixture
def backlog(tmp_path: Path) -> Path:
    path = tmp_path / "tools.csv"
    path.write_text("name,description\nTern,Tern is a tool.\nAcme,Acme is a tool.\n")
    return path


def test_a_review_on_a_full_disk_stops_before_any_call(
    fake: FakeAnthropic, isolated_env: Path, tmp_path: Path, tool: Path
) -> None:
    """The data home cannot be created: one line, exit 2, and nothing paid for."""
    result = run(fake, isolated_env, tmp_path, "review", str(tool), limit=0)
    assert_one_clear_line(result, "cannot write", str(isolated_env), "run the same command again")
    assert not [r for r in fake.requests if r[1] == "/v1/messages"]


def test_a_vote_on_a_full_disk_is_one_line(
    fake: FakeAnthropic, isolated_env: Path, tmp_path: Path, tool: Path
) -> None:
    """`panel vote` writes SQLite only: SQLite's I/O error is named as a disk fault."""
    assert run(fake, isolated_env, tmp_path, "review", str(tool)).code == 0
    result = run(fake, isolated_env, tmp_path, "vote", "acme", "ship", "--voter", "me", limit=0)
    assert_one_clear_line(result, "cannot write", str(isolated_env))


def test_a_batch_whose_database_cannot_grow_is_one_line(
    fake: FakeAnthropic, isolated_env: Path, tmp_path: Path, tool: Path, backlog: Path
) -> None:
    """A home that exists but where no file can grow: the batch stops with one line, exit 2."""
    assert run(fake, isolated_env, tmp_path, "review", str(tool)).code == 0
    result = run(fake, isolated_env, tmp_path, "batch", str(backlog), limit=0)
    assert_one_clear_line(result, "cannot write", str(isolated_env))


def test_a_home_the_kernel_refuses_is_one_line(
    fake: FakeAnthropic, tmp_path: Path, tool: Path
) -> None:
    """A home under /sys cannot be made even by root (EPERM): one line pointing at --home."""
    home = Path("/sys/panel-test-home")
    result = run(fake, home, tmp_path, "review", str(tool))
    assert_one_clear_line(result, "cannot write", str(home), "permission denied", "--home")
    assert not fake.requests


@pytest.fixture
def full_dir(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A directory where every write fails with ENOSPC, and the child environment for it."""
    site = tmp_path / "site-packages"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    full = tmp_path / "full"
    full.mkdir()
    return full, {"PYTHONPATH": str(site), "FULL_DIR": str(full)}


def test_keys_set_on_a_full_disk_is_one_line(
    fake: FakeAnthropic, isolated_env: Path, tmp_path: Path, full_dir: tuple[Path, dict[str, str]]
) -> None:
    """`panel keys set` into a full config directory: ENOSPC named, exit 2."""
    full, env = full_dir
    env = {**env, "XDG_CONFIG_HOME": str(full)}
    result = run(fake, isolated_env, tmp_path, "keys", "set", env=env, stdin="sk-ant-abc123\n")
    line = assert_one_clear_line(result, "cannot write", str(full), "the disk is full")
    assert "sk-ant-abc123" not in result.stderr + result.stdout + line


def test_an_export_to_a_full_disk_is_one_line(
    fake: FakeAnthropic,
    isolated_env: Path,
    tmp_path: Path,
    backlog: Path,
    full_dir: tuple[Path, dict[str, str]],
) -> None:
    """`panel export --csv FILE` on a full disk: the file is named, exit 2."""
    batch = run(fake, isolated_env, tmp_path, "batch", str(backlog), "--job", "j", "--json")
    assert batch.code == 0, batch.stderr
    full, env = full_dir
    target = full / "out.csv"
    result = run(fake, isolated_env, tmp_path, "export", "j", "--csv", str(target), env=env)
    assert_one_clear_line(result, f"cannot write {target}", "the disk is full")


def test_a_site_on_a_full_disk_is_one_line(
    fake: FakeAnthropic,
    isolated_env: Path,
    tmp_path: Path,
    tool: Path,
    full_dir: tuple[Path, dict[str, str]],
) -> None:
    """`panel site DIR` on a full disk: one line saying the disk is full, exit 2."""
    assert run(fake, isolated_env, tmp_path, "review", str(tool)).code == 0
    full, env = full_dir
    result = run(fake, isolated_env, tmp_path, "site", str(full / "site"), env=env)
    # the site is built beside OUT (in .site.builds/) and swapped in whole: the line names where
    assert_one_clear_line(result, "cannot write", str(full / ".site"), "the disk is full")
