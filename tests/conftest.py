"""Every test gets its own data home, no API key from the machine, and zero retry back-off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pytest_socket import socket_allow_hosts

from panel.store.open import open_store
from panel.store.sqlite import Store
from tests.fake_anthropic import FakeAnthropic
from tests.netguard_site import loopback_guard
from tests.pages import PageServer
from tests.pgcluster import Cluster, available

ROOT = Path(__file__).resolve().parent.parent
GUARD_SITE = Path(__file__).resolve().parent / "netguard_site"
FAKE_KEY = "sk-ant-test-0123456789"
# The console script installed beside this interpreter: the real `panel` command.
PANEL = str(Path(sys.executable).parent / "panel")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh PANEL_HOME per test and none of the developer's keys or settings."""
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "PANEL_")) or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    monkeypatch.setenv("PANEL_HOME", str(home))
    # the user data and config directories (platformdirs honours XDG): never the developer's own
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    # every Python subprocess (the `panel` command above all) loads the loopback guard at start-up
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(GUARD_SITE), path])))
    monkeypatch.setenv("PANEL_TEST_NETGUARD", "1")
    return home


@pytest.fixture(autouse=True)
def no_backoff(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry waits are real sleeps; tests keep the retries and drop the back-off (in this process
    and in the `panel` subprocesses, which inherit the environment). Server hints still count."""
    monkeypatch.setenv("PANEL_BACKOFF", "0")


@pytest.fixture(scope="module")
def site() -> Iterator[PageServer]:
    """A small web site on 127.0.0.1 (pages, redirects, hostile answers), shared by a module's tests."""
    with PageServer() as server:
        yield server


@pytest.fixture(autouse=True)
def loopback_only() -> None:
    """Nothing may connect anywhere but loopback (127.0.0.0/8 covers the rebinding tests' 127.0.0.2),
    and no name is looked up in DNS: only loopback names and address literals resolve."""
    socket_allow_hosts(["127.0.0.0/8", "::1"])
    loopback_guard.install(connect=False)


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    """A fake Anthropic API on 127.0.0.1 for the duration of one test."""
    with FakeAnthropic(api_key=FAKE_KEY) as server:
        yield server


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def cli_runner(fake_url: str, home: Path, cwd: Path, **homes: Path) -> Callable[..., Result]:
    """A function that runs the installed `panel` command as a subprocess against the fake API at
    `fake_url`, with `home` as its data home (and any XDG_* folders given in `homes`)."""

    def run(
        *args: str,
        stdin: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 60,
        cwd: Path | None = None,
    ) -> Result:
        full_env = {
            **os.environ,
            "ANTHROPIC_API_KEY": FAKE_KEY,
            "ANTHROPIC_BASE_URL": fake_url,
            "PANEL_HOME": str(home),
            **{name: str(path) for name, path in homes.items()},
            "COLUMNS": "120",
            **(env or {}),
        }
        proc = subprocess.run(
            [PANEL, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=full_env,
            cwd=cwd or default_cwd,
            timeout=timeout,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    default_cwd = cwd
    return run


@pytest.fixture
def panel_cli(fake: FakeAnthropic, isolated_env: Path, tmp_path: Path) -> Callable[..., Result]:
    """Run the installed `panel` command as a subprocess against the fake API."""
    return cli_runner(fake.url, isolated_env, tmp_path)


@pytest.fixture(scope="module")
def module_fake() -> Iterator[FakeAnthropic]:
    """A fake Anthropic API shared by a module's tests (for state built once, read by many)."""
    with FakeAnthropic(api_key=FAKE_KEY) as server:
        yield server


@pytest.fixture(scope="module")
def module_cli(
    module_fake: FakeAnthropic, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Result]:
    """`panel_cli` with one data home and one fake for a whole module: fixtures that make several
    reviews or a site once, for tests that only read them, use it instead of redoing the work."""
    top = tmp_path_factory.mktemp("module-home")
    return cli_runner(
        module_fake.url,
        top / "home",
        top,
        XDG_DATA_HOME=top / "xdg-data",
        XDG_CONFIG_HOME=top / "xdg-config",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that runs the real command or the fake API is end to end, whatever its file says."""
    for item in items:
        if {"panel_cli", "fake", "module_cli", "module_fake"} & set(
            getattr(item, "fixturenames", ())
        ):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """One throwaway PostgreSQL cluster for the session, on a Unix socket in a temporary dir."""
    if not available():
        message = "PostgreSQL server binaries missing: apt-get install postgresql"
        if os.environ.get("PANEL_REQUIRE_POSTGRES"):  # `make test` installs them: never skip there
            pytest.fail(message)
        pytest.skip(message)
    cluster = Cluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> str:
    """A fresh, empty database of the session's cluster."""
    return pg_cluster.new_database()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The same test on both stores: `postgres` points PANEL_DATABASE_URL at a fresh database
    (in this process and in the `panel` subprocesses, which inherit the environment)."""
    if request.param == "postgres":
        monkeypatch.setenv("PANEL_DATABASE_URL", request.getfixturevalue("pg_url"))
    return str(request.param)


@pytest.fixture
def make_store(backend: str, tmp_path: Path) -> Iterator[Callable[..., Store]]:
    """Open the store of the test's backend, as the commands do; closed at the end."""
    opened: list[Store] = []

    def make(home: Path | None = None) -> Store:
        store = open_store(home or tmp_path / "store")
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def browser() -> Iterator[object]:
    """Debian's chromium driven by Playwright, for one test. Never kept longer: Playwright's sync
    API runs an event loop in this thread while it lives, and the next test's `asyncio.run` (the
    library, the scheduler tests) would refuse to start beside it."""
    from playwright.sync_api import sync_playwright

    from tests.test_site_browser import CHROMIUM, FLAGS

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()
