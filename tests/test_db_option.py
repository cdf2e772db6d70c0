"""`--db URL` on every command that touches the store, and no password in what they print."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from panel.store.connection import redact, scrub
from tests.conftest import Result

Cli = Callable[..., Result]
# Loopback, a port nothing listens on: the connection is refused at once.
REFUSED = "postgresql://ana:s3cret-pw@127.0.0.1:1/team"

COMMANDS = [
    ["review", "--description", "An open-source CLI."],
    ["rerun", "acme"],
    ["batch", "backlog.csv"],
    ["export", "job", "--json"],
    ["jobs"],
    ["cost"],
    ["show", "acme"],
    ["history", "acme"],
    ["list"],
    ["diff", "acme"],
    ["compare", "acme", "zed"],
    ["site", "public"],
    ["vote", "acme", "ship", "--voter", "ana"],
    ["db", "upgrade"],
    ["digest"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: args[0])
def test_every_store_command_takes_db_and_never_prints_its_password(
    panel_cli: Cli, args: list[str], tmp_path: Path
) -> None:
    """`--db` is the store the command opens: an unreachable one is a one-line error that names
    it without its password."""
    (tmp_path / "backlog.csv").write_text("name,description\nAcme,An open-source CLI.\n")
    result = panel_cli(*args, "--db", REFUSED)
    assert result.code == 2, result.stderr
    assert result.stderr.count("\n") == 1
    assert "panel: error: postgresql://ana:***@127.0.0.1:1/team: cannot connect" in result.stderr
    assert "s3cret" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("mysql://ana:s3cret@db/team", "--db: 'mysql://ana:***@db/team' is not a postgresql://"),
        ("postgresql://ana:s3%cret@127.0.0.1:1/team", "postgresql://ana:***@127.0.0.1:1/team"),
        ("postgresql://ana:s3cret@[::1/team", "postgresql://ana:***@[::1/team"),
    ],
)
def test_a_bad_db_url_is_named_without_its_password(panel_cli: Cli, url: str, shown: str) -> None:
    """Regression: the driver's parse errors quote the URL (or the token it could not read)."""
    result = panel_cli("list", "--db", url)
    assert result.code == 2 and result.stderr.count("\n") == 1, result.stderr
    assert shown in result.stderr
    assert "s3cret" not in result.stderr and "s3%cret" not in result.stderr


# libpq key=value connection strings, each with the password written another way libpq reads it.
KEYWORD_STRINGS = [
    "host=127.0.0.1 port=1 user=u password=s3cret dbname=x",
    "host=127.0.0.1 port=1 user=u password = s3cret dbname=x",
    "host=127.0.0.1 port=1 password='a s3cret with spaces' dbname=x",
    r"host=127.0.0.1 port=1 password='it\'s a s3cret\\' dbname=x",
    r"host=127.0.0.1 port=1 password=s3cret\ with\ spaces dbname=x",
    "password=s3cret",
]


@pytest.mark.parametrize("via", ["--db", "PANEL_DATABASE_URL"])
@pytest.mark.parametrize("conninfo", KEYWORD_STRINGS)
def test_a_key_value_connection_string_is_refused_without_its_password(
    panel_cli: Cli, conninfo: str, via: str
) -> None:
    """Regression: a libpq key=value string was refused with its password printed in full."""
    if via == "--db":
        result = panel_cli("list", "--db", conninfo)
    else:
        result = panel_cli("list", env={"PANEL_DATABASE_URL": conninfo})
    assert result.code == 2 and result.stderr.count("\n") == 1, result.stderr
    assert f"panel: error: {via}: " in result.stderr
    assert "password" in result.stderr and "is not a postgresql:// URL" in result.stderr
    assert "s3cret" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://ana:pw@db/team", "postgresql://ana:***@db/team"),
        (
            "postgresql://ana:p/w@x@db:5432/team?sslmode=require",
            "postgresql://ana:***@db:5432/team?sslmode=require",
        ),
        (
            "postgresql://db/team?user=ana&password=pw&x=1",
            "postgresql://db/team?user=ana&password=***&x=1",
        ),
        ("postgresql://ana@db:5432/team", "postgresql://ana@db:5432/team"),
    ],
)
def test_redact_hides_the_password_wherever_the_url_puts_it(url: str, shown: str) -> None:
    """In the authority (even with `/` or `@` in it) or as a parameter; a URL without one is kept."""
    assert redact(url) == shown


@pytest.mark.parametrize(
    ("conninfo", "shown"),
    [
        ("host=db user=ana password=pw dbname=team", "host=db user=ana password=*** dbname=team"),
        ("host=db password = pw dbname=team", "host=db password = *** dbname=team"),
        ("host=db password='p w' dbname=team", "host=db password=*** dbname=team"),
        (r"host=db password='p\' w\\' dbname=team", "host=db password=*** dbname=team"),
        (r"host=db password=p\ w dbname=team", "host=db password=*** dbname=team"),
        ("host=db password='unterminated p w", "host=db password=***"),
        ("password=pw", "password=***"),
        ("host=db user=ana dbname=team", "host=db user=ana dbname=team"),
        ("host=db passwordfile=x mypassword=y", "host=db passwordfile=x mypassword=y"),
    ],
)
def test_redact_hides_the_password_of_a_key_value_string(conninfo: str, shown: str) -> None:
    """Unquoted, spaced, quoted (escapes and all) as libpq reads it; other keywords are kept."""
    assert redact(conninfo) == shown


def test_scrub_removes_the_password_from_a_driver_message() -> None:
    """The password as written and percent-decoded: libpq may quote either."""
    url = "postgresql://ana:p%40ss@db/team"
    assert scrub(f'bad "{url}" or "p@ss"', url) == 'bad "postgresql://ana:***@db/team" or "***"'


def test_review_and_list_use_the_database_db_names(
    panel_cli: Cli, pg_url: str, tmp_path: Path, isolated_env: Path
) -> None:
    """With `--db` and no PANEL_DATABASE_URL the run goes to the database, not the data home."""
    (tmp_path / "acme.md").write_text("# Acme CLI\n\nAcme turns a backlog into reviews.\n")
    review = panel_cli("review", "acme.md", "--name", "Acme CLI", "--json", "--db", pg_url)
    assert review.code == 0, review.stderr
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT run_id FROM runs").fetchall() == [(review.json()["run_id"],)]
    listed = panel_cli("list", "--json", "--db", pg_url)
    assert [t["run_id"] for t in listed.json()] == [review.json()["run_id"]]
    assert panel_cli("list", "--json").json() == []  # the data home has none
    assert not list(isolated_env.glob("acme-cli/*.json"))
