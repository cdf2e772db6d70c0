"""The real `panel` command on both stores: review, show, list, vote, and the schema refusals."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from panel.store.migrations import MIGRATIONS, SCHEMA_VERSION
from tests.conftest import FAKE_KEY, PANEL, Result
from tests.fake_anthropic import FakeAnthropic
from tests.pages import ETAG, PageServer

pytestmark = pytest.mark.e2e
Cli = Callable[..., Result]


def test_review_then_show_and_list(
    panel_cli: Cli, backend: str, tmp_path: Path, isolated_env: Path
) -> None:
    """A review is recorded in the store in use, and read back by show, list and vote."""
    (tmp_path / "acme.md").write_text("# Acme CLI\n\nAcme turns a backlog into reviews.\n")
    review = panel_cli("review", "acme.md", "--name", "Acme CLI", "--json")
    assert review.code == 0, review.stderr
    run_id = review.json()["run_id"]
    shown = panel_cli("show", "acme-cli", "--json")
    assert shown.code == 0, shown.stderr
    assert shown.json()["run_id"] == run_id
    listed = panel_cli("list", "--json")
    assert [t["run_id"] for t in listed.json()] == [run_id]
    assert panel_cli("vote", "acme-cli", "ship", "--voter", "ana").code == 0
    site = panel_cli("site", "public")
    assert site.code == 0, site.stderr
    assert "Acme CLI" in (tmp_path / "public" / "tools" / "acme-cli.html").read_text()
    # SQLite keeps a JSON record per run in the home; PostgreSQL keeps it in the database
    on_disk = list(isolated_env.glob("acme-cli/*.json"))
    assert len(on_disk) == (1 if backend == "sqlite" else 0)


def test_a_newer_database_is_refused_in_one_line(panel_cli: Cli, pg_url: str) -> None:
    """Every command stops on a schema newer than it knows, and says what to do."""
    env = {"PANEL_DATABASE_URL": pg_url}
    latest = SCHEMA_VERSION
    upgrade = panel_cli("db", "upgrade", env=env).stdout
    assert upgrade.endswith(f"schema version 0 -> {latest}\n")
    up_to_date = panel_cli("db", "upgrade", env=env).stdout
    assert up_to_date.endswith(f"schema version {latest}, up to date\n")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version VALUES (%s, 'later')", (latest + 1,))
    for args in (["list"], ["db", "upgrade"], ["review", "--description", "A CLI."]):
        result = panel_cli(*args, env=env)
        assert result.code == 2
        assert result.stderr.count("\n") == 1
        assert (
            f"schema version {latest + 1} is newer than this panel knows ({latest}); upgrade panel"
            in result.stderr
        )


def test_a_database_from_before_blobs_is_upgraded_deliberately(panel_cli: Cli, pg_url: str) -> None:
    """A team's database at version 1 is refused in one line until `panel db upgrade` adds the
    fetched-page copies (migration 2); what it had is kept."""
    env = {"PANEL_DATABASE_URL": pg_url}
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(MIGRATIONS[0])
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)")
        conn.execute("INSERT INTO schema_version VALUES (1, 'then')")
        conn.execute("INSERT INTO votes VALUES ('acme', 'bo', 'skip', 'then')")
    refused = panel_cli("list", env=env)
    assert refused.code == 2 and refused.stderr.count("\n") == 1
    assert (
        f"schema version 1 is older than this panel's ({SCHEMA_VERSION}); run `panel db upgrade`"
        in refused.stderr
    )
    upgraded = panel_cli("db", "upgrade", env=env).stdout
    assert upgraded.endswith(f"schema version 1 -> {SCHEMA_VERSION}\n")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT COUNT(*) FROM blobs").fetchone() == (0,)
        assert conn.execute("SELECT voter FROM votes").fetchall() == [("bo",)]


def test_two_processes_reviewing_one_file_upload_it_once(
    fake: FakeAnthropic, backend: str, tmp_path: Path, isolated_env: Path
) -> None:
    """Two `panel review` processes started together on the same store upload the shared document
    once: the second waits on the first's claim and reuses its file_id. On SQLite they share the
    data home; on PostgreSQL each has its own (two machines), the database is the team's."""
    fake.upload_delay = 2.0  # the first upload is in flight while the second process arrives
    (tmp_path / "terms.md").write_text("# Vendor terms\n\n" + "Common vendor terms.\n" * 50)
    homes = [isolated_env] * 2 if backend == "sqlite" else [tmp_path / "m1", tmp_path / "m2"]
    procs = [
        subprocess.Popen(
            [PANEL, "review", "terms.md", "--name", "Terms", "--json"],
            env={
                **os.environ,
                "ANTHROPIC_API_KEY": FAKE_KEY,
                "ANTHROPIC_BASE_URL": fake.url,
                "PANEL_HOME": str(home),
            },
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for home in homes
    ]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], [e for _, e in outputs]
    assert len(fake.uploads) == 1
    refs = [json.loads(out)["documents"][0] for out, _ in outputs]
    assert {ref["file_id"] for ref in refs} == {fake.uploads[0]["file_id"]}
    assert sorted(ref["uploaded_now"] for ref in refs) == [False, True]


def test_a_rerun_elsewhere_gets_a_304_and_rebuilds_the_same_document(
    panel_cli: Cli, fake: FakeAnthropic, site: PageServer, backend: str, tmp_path: Path
) -> None:
    """The page's extracted text is kept with its fetch record: on PostgreSQL in the database, so
    a teammate's run on another machine (another data home) sends the ETag, gets a 304 and sends
    the same document, uploaded once. On SQLite the data home keeps it, for the next run there."""
    homes = [tmp_path / "home"] * 2 if backend == "sqlite" else [tmp_path / "m1", tmp_path / "m2"]
    args = ["review", f"{site.url}/etag", "--allow-private", "--name", "Pricing", "--json"]
    first, second = (panel_cli(*args, env={"PANEL_HOME": str(home)}) for home in homes)
    assert first.code == 0 and second.code == 0, first.stderr + second.stderr
    assert site.headers["/etag"].get("if-none-match") == ETAG
    docs = [result.json()["documents"][0] for result in (first, second)]
    assert [d["fetch"]["not_modified"] for d in docs] == [False, True]
    assert docs[0]["sha256"] == docs[1]["sha256"] and len(fake.uploads) == 1
    on_disk = [p for home in set(homes) for p in home.glob("blobs/*/*")]
    assert len(on_disk) == (1 if backend == "sqlite" else 0)
