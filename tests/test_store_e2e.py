"""The real `panel` command on both stores: review, show, list, vote, and the schema refusals."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from tests.conftest import FAKE_KEY, PANEL, Result
from tests.fake_anthropic import FakeAnthropic

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
    assert panel_cli("db", "upgrade", env=env).stdout.endswith("schema version 0 -> 1\n")
    assert panel_cli("db", "upgrade", env=env).stdout.endswith("schema version 1, up to date\n")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version VALUES (2, 'later')")
    for args in (["list"], ["db", "upgrade"], ["review", "--description", "A CLI."]):
        result = panel_cli(*args, env=env)
        assert result.code == 2
        assert result.stderr.count("\n") == 1
        assert "schema version 2 is newer than this panel knows (1); upgrade panel" in result.stderr


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
