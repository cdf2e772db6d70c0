"""Issue 12: data homes found like git's, runs named any way, exports, keys, aliases and help."""

from __future__ import annotations

import csv
import io
import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from panel.config import DEFAULT_MODEL, model_id, resolve
from tests.conftest import FAKE_KEY, Result
from tests.test_batch_e2e import FAST, make_backlog

Cli = Callable[..., Result]
NO_HOME = {"PANEL_HOME": ""}  # as if PANEL_HOME were unset: the home is found
NO_KEY = {"ANTHROPIC_API_KEY": ""}


@pytest.fixture
def doc(tmp_path: Path) -> Path:
    path = tmp_path / "acme.md"
    path.write_text("# Acme CLI\n\nAcme turns a backlog into reviews.\n" * 40)
    return path


def run_ids(cli: Cli, tool: str) -> list[str]:
    return [r["run_id"] for r in cli("history", tool, "--json").json()["runs"]]


# data home ------------------------------------------------------------------------------------


def test_home_is_the_nearest_runs_with_a_database_above_the_working_directory(
    panel_cli: Cli, doc: Path, tmp_path: Path
) -> None:
    """Without --home or PANEL_HOME, a review from a subdirectory records in the project's runs/."""
    project = tmp_path / "project"
    (project / "runs").mkdir(parents=True)
    (project / "runs" / "panel.db").touch()
    deep = project / "src" / "deep"
    deep.mkdir(parents=True)
    review = panel_cli("review", str(doc), "--name", "Acme", "-j", env=NO_HOME, cwd=deep)
    assert review.code == 0, review.stderr
    run_id = review.json()["run_id"]
    assert (project / "runs" / "acme" / f"{run_id}.json").is_file()
    assert f"panel: recorded run {run_id} in {project / 'runs'}" in review.stderr
    assert "recorded" not in review.stdout
    home = panel_cli("home", env=NO_HOME, cwd=deep)
    assert home.stdout.strip() == str(project / "runs")
    assert f"found at {project / 'runs'}" in home.stderr


def test_a_runs_folder_without_a_panel_database_is_not_a_home(
    panel_cli: Cli, tmp_path: Path
) -> None:
    """TensorBoard's runs/ is left alone: the user data directory is used instead."""
    (tmp_path / "runs").mkdir()
    home = panel_cli("home", "--json", env=NO_HOME).json()
    assert home["source"] == "user"
    assert home["home"] == str(tmp_path / "xdg-data" / "panel")
    assert home["has_runs"] is False


@pytest.mark.parametrize(
    ("args", "env", "source", "reason"),
    [
        (["--home", "elsewhere"], {}, "--home", "from --home"),
        ([], {}, "PANEL_HOME", "from the PANEL_HOME environment variable"),
        ([], NO_HOME, "user", "the user data directory"),
    ],
)
def test_panel_home_says_which_home_and_why(
    panel_cli: Cli, args: list[str], env: dict[str, str], source: str, reason: str
) -> None:
    """`panel home` names the home and the rule that chose it."""
    result = panel_cli("home", *args, "-j", env=env)
    assert result.code == 0, result.stderr
    data = result.json()
    assert data["source"] == source and data["reason"].startswith(reason)


def test_reading_commands_never_create_the_user_data_home(panel_cli: Cli, tmp_path: Path) -> None:
    """list, home, jobs and show in a fresh place create no directory at all."""
    for args in (["list"], ["home"], ["jobs"], ["show", "acme"], ["export", "job", "-j"]):
        panel_cli(*args, env=NO_HOME)
    assert not (tmp_path / "xdg-data").exists()


# names ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def three_runs(module_cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Three reviews of Acme in the module's data home, made once for the tests that read them."""
    doc = tmp_path_factory.mktemp("acme") / "acme.md"
    doc.write_text("# Acme CLI\n\nAcme turns a backlog into reviews.\n" * 40)
    for _ in range(3):
        assert module_cli("review", str(doc), "--name", "Acme").code == 0
    ids = run_ids(module_cli, "Acme")
    assert len(ids) == 3
    return ids


@pytest.mark.parametrize(
    ("ref", "index"), [("acme", -1), ("Acme", -1), ("acme~1", -2), ("Acme~2", -3)]
)
def test_show_takes_a_tool_or_tool_tilde_n(
    module_cli: Cli, three_runs: list[str], ref: str, index: int
) -> None:
    """A name or slug is the latest run; TOOL~N is the run N before it."""
    assert module_cli("show", ref, "-j").json()["run_id"] == three_runs[index]


def test_show_takes_a_unique_run_id_prefix(module_cli: Cli, three_runs: list[str]) -> None:
    """The shortest unambiguous start of a run id names it."""
    target = three_runs[0]
    prefix = next(
        target[:n]
        for n in range(1, len(target))
        if sum(r.startswith(target[:n]) for r in three_runs) == 1
    )
    assert module_cli("show", prefix, "-j").json()["run_id"] == target


def test_an_ambiguous_prefix_is_one_line_listing_candidates(
    module_cli: Cli, three_runs: list[str]
) -> None:
    """A prefix of several run ids fails with one line naming them, exit 2."""
    result = module_cli("show", three_runs[0][:4])
    assert result.code == 2 and result.stderr.count("\n") == 1
    assert "is the start of 3 run ids" in result.stderr
    assert all(run_id in result.stderr for run_id in three_runs)


def test_tilde_past_the_oldest_run_is_one_line(module_cli: Cli, three_runs: list[str]) -> None:
    result = module_cli("show", "acme~3")
    assert result.code == 2 and "has 3 run(s), so ~2 is the oldest" in result.stderr


def test_diff_of_a_tool_alone_compares_its_last_two_runs(
    module_cli: Cli, three_runs: list[str]
) -> None:
    """`panel diff TOOL` is `panel diff TOOL~1 TOOL`."""
    alone = module_cli("diff", "acme", "-j").json()
    explicit = module_cli("diff", "acme~1", "acme", "--json").json()
    assert alone == explicit
    assert alone["old_run_id"] == three_runs[1] and alone["new_run_id"] == three_runs[2]


# output ---------------------------------------------------------------------------------------


@pytest.fixture
def finished_job(panel_cli: Cli, tmp_path: Path) -> str:
    backlog, _ = make_backlog(tmp_path, 3, shared=1)
    result = panel_cli("batch", str(backlog), "--json", *FAST)
    assert result.code == 0, result.stderr
    return str(result.json()["job_id"])


def test_export_csv_to_stdout_has_the_card_columns_and_needs_no_key(
    panel_cli: Cli, finished_job: str, tmp_path: Path
) -> None:
    """`--csv -` writes to stdout (no file named -), with category, tagline, pricing, best for."""
    result = panel_cli("export", finished_job, "--csv", "-", env=NO_KEY)
    assert result.code == 0, result.stderr
    assert not (tmp_path / "-").exists()
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 3
    for column in ("category", "tagline", "pricing", "best_for"):
        assert all(row[column] for row in rows), column


def test_export_json_is_the_same_rows(panel_cli: Cli, finished_job: str) -> None:
    as_json = panel_cli("export", finished_job, "-j", env=NO_KEY).json()
    as_csv = list(
        csv.DictReader(io.StringIO(panel_cli("export", finished_job, "--csv", "-").stdout))
    )
    assert [r["slug"] for r in as_json] == [r["slug"] for r in as_csv]
    assert {"category", "tagline", "pricing", "best_for", "label"} <= set(as_json[0])


def test_batch_json_on_a_finished_job_needs_no_key(
    panel_cli: Cli, finished_job: str, tmp_path: Path
) -> None:
    """Running a finished job again prints its summary without asking for a key."""
    result = panel_cli("batch", str(tmp_path / "backlog.jsonl"), "--json", env=NO_KEY)
    assert result.code == 0, result.stderr
    assert result.json()["counts"] == {"done": 3, "failed": 0, "pending": 0}
    assert "--dry-run" not in result.stderr


def test_batch_with_work_and_no_key_says_where_keys_come_from(
    panel_cli: Cli, tmp_path: Path
) -> None:
    backlog, _ = make_backlog(tmp_path, 1, shared=0)
    result = panel_cli("batch", str(backlog), env=NO_KEY)
    assert result.code == 2
    assert "panel keys set" in result.stderr and "--dry-run" not in result.stderr


def test_long_errors_are_not_wrapped(panel_cli: Cli) -> None:
    """A note longer than the terminal stays one line on stderr."""
    result = panel_cli("show", "x" * 150, env={"COLUMNS": "60"})
    assert result.code == 2 and result.stderr.count("\n") == 1


# conventions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [("sonnet", "claude-sonnet-5-5"), ("Haiku", "claude-haiku-5-5"), ("opus", "claude-opus-5-5")],
)
def test_model_aliases_resolve_to_ids(given: str, expected: str) -> None:
    assert model_id(given) == expected


def test_aliases_apply_to_flags_and_environment() -> None:
    """--model / --card-model and PANEL_MODEL / PANEL_CARD_MODEL all take aliases."""
    s = resolve(model="opus", card_model="sonnet", env={"PANEL_HOME": "h"})
    assert (s.model, s.card_model) == ("claude-opus-5-5", "claude-sonnet-5-5")
    s = resolve(env={"PANEL_HOME": "h", "PANEL_MODEL": "haiku", "PANEL_CARD_MODEL": "opus"})
    assert (s.model, s.card_model) == ("claude-haiku-5-5", "claude-opus-5-5")
    assert resolve(model="claude-custom-1", env={"PANEL_HOME": "h"}).model == "claude-custom-1"


def test_short_model_flag_and_card_model_reach_the_api(
    panel_cli: Cli, fake: object, doc: Path
) -> None:
    """`-m haiku --card-model opus` sends the full ids."""
    result = panel_cli("review", str(doc), "-m", "haiku", "--card-model", "opus", "-j")
    assert result.code == 0, result.stderr
    models = {r["model"] for r in fake.message_requests}  # type: ignore[attr-defined]
    assert models == {"claude-haiku-5-5", "claude-opus-5-5"}


def test_panel_models_lists_aliases_with_prices(panel_cli: Cli) -> None:
    rows = {r["model"]: r for r in panel_cli("models", "-j").json()}
    assert rows[DEFAULT_MODEL]["aliases"] == ["sonnet"]
    assert rows[DEFAULT_MODEL]["input"] > 0 and "personas" in rows[DEFAULT_MODEL]["default_for"]
    assert "haiku" in panel_cli("models").stdout


def test_keys_set_stores_the_key_0600_and_never_prints_it(
    panel_cli: Cli, doc: Path, tmp_path: Path
) -> None:
    """A stored key is used when the environment has none; the file is the owner's only."""
    result = panel_cli("keys", "set", stdin=FAKE_KEY + "\n", env=NO_KEY)
    assert result.code == 0, result.stderr
    path = Path(panel_cli("keys", "path").stdout.strip())
    assert path == tmp_path / "xdg-config" / "panel" / "keys.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"anthropic": FAKE_KEY}
    review = panel_cli("review", str(doc), env=NO_KEY)
    assert review.code == 0, review.stderr
    for r in (result, review, panel_cli("keys", "path", env=NO_KEY)):
        assert FAKE_KEY not in r.stdout + r.stderr
    assert str(path) in panel_cli("keys", "path", env=NO_KEY).stderr


def test_the_environment_wins_over_the_stored_key(panel_cli: Cli, doc: Path) -> None:
    panel_cli("keys", "set", stdin="sk-ant-wrong\n")
    assert panel_cli("review", str(doc)).code == 0  # the fake accepts only FAKE_KEY


def test_a_dotenv_in_the_working_directory_supplies_the_key(
    panel_cli: Cli, doc: Path, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(f"ANTHROPIC_API_KEY={FAKE_KEY}\n")
    result = panel_cli("review", str(doc), env=NO_KEY, cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert ".env" in panel_cli("keys", "path", env=NO_KEY, cwd=tmp_path).stderr


@pytest.mark.parametrize(
    "command", ["review", "batch", "rerun", "diff", "export", "show", "models"]
)
def test_help_has_no_type_tags(panel_cli: Cli, command: str) -> None:
    """Help shows TEXT, PATH and choices the way click does, never `<bool>` or `<list[str]>`."""
    result = panel_cli(command, "--help")
    assert result.code == 0 and "<" not in result.stdout.replace("<<", "")


def test_via_lists_its_choices_and_completion_is_on(panel_cli: Cli) -> None:
    assert "[live|batches]" in panel_cli("batch", "--help").stdout
    assert "--install-completion" in panel_cli("--help").stdout
    env = {"_PANEL_COMPLETE": "complete_bash", "COMP_WORDS": "panel rev", "COMP_CWORD": "1"}
    assert panel_cli(env=env).stdout.split() == ["review"]


def test_json_help_is_each_commands_own(panel_cli: Cli) -> None:
    helps = {c: panel_cli(c, "--help").stdout for c in ("review", "list", "history", "jobs")}
    assert "scorecard" in helps["review"]
    assert all("-j" in h for h in helps.values())
    assert not any("scorecard" in helps[c] for c in ("list", "jobs"))


@pytest.mark.parametrize(
    "args", [["diff"], ["review", "--bogus"], ["batch", "b.csv", "--via", "carrier-pigeon"]]
)
def test_usage_errors_are_one_line(panel_cli: Cli, args: list[str]) -> None:
    """typer's usage box becomes `panel: error: ...`, exit 2."""
    result = panel_cli(*args)
    assert result.code == 2
    assert result.stderr.startswith("panel: error: panel ") and result.stderr.count("\n") == 1


@pytest.mark.parametrize("how", ["flag", "env"])
def test_an_unknown_batch_cache_choice_is_one_line(panel_cli: Cli, how: str) -> None:
    args = ["--batch-cache", "1d"] if how == "flag" else []
    env = {"PANEL_BATCH_CACHE": "1d"} if how == "env" else {}
    result = panel_cli("batch", "b.csv", "--via", "batches", *args, env=env)
    assert result.code == 2 and result.stderr.count("\n") == 1
    assert "PANEL_BATCH_CACHE" in result.stderr and "warm, none, 5m, 1h" in result.stderr


def test_a_usage_error_at_the_root_names_panel_once(panel_cli: Cli) -> None:
    result = panel_cli("--bogus")
    assert result.code == 2
    assert result.stderr == "panel: error: No such option: --bogus (see `panel --help`)\n"
