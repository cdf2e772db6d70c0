"""Issue 11, costs: prices by family, cost in every run, `panel cost`, `--max-cost`, the estimate."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from panel.judge.pricing import cost, list_cost, prices_for
from panel.model.run import Run
from panel.model.verdict import Usage
from tests.conftest import Result
from tests.fake_anthropic import FakeAnthropic
from tests.runs import make_run, verdict

Cli = Callable[..., Result]
# A 27k-token page: the documents dominate a review's input, as they do in use.
LONG_PAGE = "# Acme Editor\n\nAcme Editor is a modal editor.\n\n" + (
    "Acme keeps the plugin API small and its release notes honest. " * 1700
)


@pytest.fixture
def long_doc(tmp_path: Path) -> str:
    path = tmp_path / "acme.md"
    path.write_text(LONG_PAGE)
    return str(path)


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("claude-sonnet-5-5", "claude-sonnet-5-5"),
        ("claude-sonnet-5-5-20261001", "claude-sonnet-5-5"),
        ("claude-opus-5-5-latest", "claude-opus-5-5"),
        ("claude-haiku-5-5-preview", "claude-haiku-5-5"),
        ("Claude-Haiku-5-5", "claude-haiku-5-5"),
    ],
)
def test_dated_ids_and_aliases_price_as_their_family(model: str, family: str) -> None:
    """A snapshot or alias of a priced model finds its family's row."""
    assert prices_for(model) == prices_for(family) is not None


@pytest.mark.parametrize("model", ["claude-sonnet-4-5", "llama3.1:8b", "claude-sonnet-5-50"])
def test_an_unknown_model_has_no_price(model: str) -> None:
    """A model missing from prices.toml costs None (shown as "price unknown"), never $0."""
    assert prices_for(model) is None
    assert cost(model, Usage(input_tokens=10)) is None and list_cost(model, Usage()) is None


def test_list_price_counts_every_input_token_at_the_input_price() -> None:
    """List price: cached and written tokens at the input price, no discount."""
    usage = Usage(input_tokens=1000, cache_read_input_tokens=9000, output_tokens=100)
    assert list_cost("claude-sonnet-5-5", usage) == pytest.approx((10_000 * 2 + 100 * 10) / 1e6)
    assert cost("claude-sonnet-5-5", usage) == pytest.approx((1000 * 2 + 9000 * 0.1 + 1000) / 1e6)


def test_a_write_the_api_reports_as_one_hour_is_priced_as_one_whatever_the_job_asked() -> None:
    """The API splits cache writes by TTL; a job changed from one cache choice to another still
    prices each write by what it was, and usage without the split falls back to `cache_ttl`."""
    from panel.api.replies import usage_of

    raw = {
        "input_tokens": 10,
        "output_tokens": 5,
        "cache_creation_input_tokens": 1_000_000,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 1_000_000},
    }
    usage = usage_of(raw)
    assert usage.cache_creation_1h_input_tokens == 1_000_000
    one_hour = prices_for("claude-sonnet-5-5")["cache_write_1h"]  # type: ignore[index]
    five_min = prices_for("claude-sonnet-5-5")["cache_write_5m"]  # type: ignore[index]
    write = cost("claude-sonnet-5-5", Usage(cache_creation_input_tokens=1_000_000), cache_ttl="5m")
    assert write == five_min  # no split recorded: the TTL given
    split = cost(
        "claude-sonnet-5-5",
        usage.model_copy(update={"input_tokens": 0, "output_tokens": 0}),
        cache_ttl="5m",
    )
    assert split == one_hour != five_min
    assert (usage + usage).cache_creation_1h_input_tokens == 2_000_000


def test_an_older_record_loads_with_its_cost_in_usage() -> None:
    """A record from before usage.cost_usd keeps loading, its top-level cost_usd carried over."""
    data = json.loads(make_run("r1", [verdict("builder", 80)]).model_dump_json())
    data["usage"] = {"input_tokens": 5, "output_tokens": 7}
    data["cost_usd"] = 0.25
    run = Run.model_validate(data)
    assert run.usage.cost_usd == 0.25 and run.usage.models == {} and run.usage.output_tokens == 7


def test_review_json_shows_cost_in_usage_per_model(
    panel_cli: Cli, fake: FakeAnthropic, long_doc: str
) -> None:
    """`--json` carries usage.cost_usd and each model's tokens by kind and cost."""
    out = panel_cli("review", long_doc, "--json").json()
    usage = out["usage"]
    models = usage["models"]
    assert set(models) == {"claude-sonnet-5-5", "claude-haiku-5-5"}
    assert models["claude-sonnet-5-5"]["cache_read_input_tokens"] > 0
    assert usage["cost_usd"] == pytest.approx(sum(m["cost_usd"] for m in models.values()))
    assert usage["cost_usd"] == out["cost_usd"] > 0


def test_an_unpriced_model_records_price_unknown(panel_cli: Cli, fake: FakeAnthropic) -> None:
    """A model without a price: the run records cost None and the scorecard says so."""
    fake.models.add("claude-next-1")
    result = panel_cli("review", "--description", "Acme is a CLI.", "--model", "claude-next-1")
    assert result.code == 0, result.stderr
    assert "price unknown" in " ".join(result.stdout.replace("│", " ").split())
    spent = panel_cli("cost", "--json").json()
    assert spent["models"]["claude-next-1"]["cost_usd"] is None
    assert spent["models"]["claude-next-1"]["unpriced"] == 1


def test_cost_reports_spend_and_savings_per_tool_and_model(
    panel_cli: Cli, fake: FakeAnthropic, long_doc: str
) -> None:
    """`panel cost`: spend per tool, per model and in total, and what caching saved."""
    run = panel_cli("review", long_doc, "--json").json()
    panel_cli("review", "--description", "Helix is a modal editor.", "--name", "Helix")
    spent = panel_cli("cost", "--json").json()
    assert set(spent["tools"]) == {"acme-editor", "helix"}
    assert spent["tools"]["acme-editor"]["cost_usd"] == pytest.approx(run["cost_usd"])
    total = spent["total"]
    assert total["runs"] == 2
    assert total["cost_usd"] == pytest.approx(sum(t["cost_usd"] for t in spent["tools"].values()))
    assert total["caching_saved_usd"] > 0 and total["batches_saved_usd"] == pytest.approx(0)
    assert total["list_usd"] == pytest.approx(
        total["cost_usd"] + total["caching_saved_usd"] + total["batches_saved_usd"]
    )
    one = panel_cli("cost", "helix", "--json").json()
    assert set(one["tools"]) == {"helix"} and one["total"]["runs"] == 1
    assert panel_cli("cost", "--since", "2999-01-01", "--json").json()["total"]["runs"] == 0
    text = panel_cli("cost").stdout
    assert "acme-editor" in text and "claude-haiku-5-5" in text and "caching" in text


def test_cost_refuses_a_bad_date_in_one_line(panel_cli: Cli, fake: FakeAnthropic) -> None:
    """--since takes YYYY-MM-DD; anything else is one line, exit 2."""
    panel_cli("review", "--description", "Acme is a CLI.")
    result = panel_cli("cost", "--since", "last week")
    assert result.code == 2 and result.stderr.count("\n") == 1 and "--since" in result.stderr


@pytest.mark.parametrize("command", ["review", "rerun"])
def test_max_cost_refuses_before_any_call(
    panel_cli: Cli, fake: FakeAnthropic, long_doc: str, command: str
) -> None:
    """--max-cost under the estimate: one line, exit 2, and not one request."""
    if command == "rerun":
        assert panel_cli("review", long_doc).code == 0
        fake.requests.clear()
        args = ["rerun", "acme-editor"]
    else:
        args = ["review", long_doc]
    result = panel_cli(*args, "--max-cost", "0.01")
    assert result.code == 2, result.stderr
    assert "more than --max-cost $0.0100" in result.stderr and result.stderr.count("\n") == 1
    assert fake.requests == []


def test_max_cost_above_the_estimate_runs(
    panel_cli: Cli, fake: FakeAnthropic, long_doc: str
) -> None:
    """A budget the estimate fits in lets the review run."""
    assert panel_cli("review", long_doc, "--max-cost", "1").code == 0


def test_dry_run_estimate_is_within_a_quarter_of_the_real_cost(
    panel_cli: Cli, fake: FakeAnthropic, long_doc: str
) -> None:
    """The estimate counts one cache write and three reads, and lands within ±25% of the bill.

    The fake's count_tokens is an estimate, not its billing formula (as on the API), so this
    compares the estimate with what the fake then bills, kind by kind."""
    plan = panel_cli("review", long_doc, "--dry-run", "--json").json()
    assert fake.message_requests == [] and fake.token_counts > 0
    estimate = plan["estimate"]
    assert estimate["counted"] is True
    sonnet = estimate["usage"]["models"]["claude-sonnet-5-5"]
    assert sonnet["cache_read_input_tokens"] == 3 * sonnet["cache_creation_input_tokens"] > 0
    real = panel_cli("review", long_doc, "--json").json()
    billed = real["usage"]["models"]["claude-sonnet-5-5"]
    for kind in ("cache_creation_input_tokens", "cache_read_input_tokens"):
        assert sonnet[kind] == pytest.approx(billed[kind], rel=0.1), kind
    assert estimate["cost_usd"] == pytest.approx(real["cost_usd"], rel=0.25)


def test_counted_estimate_includes_the_output_schema(
    panel_cli: Cli, fake: FakeAnthropic, long_doc: str
) -> None:
    """The persona calls' uncached input (instruction and verdict schema) is counted, not left
    out: within 25% of what the fake bills for it."""
    plan = panel_cli("review", long_doc, "--dry-run", "--json").json()
    estimated = plan["estimate"]["usage"]["models"]["claude-sonnet-5-5"]["input_tokens"]
    real = panel_cli("review", long_doc, "--json").json()
    billed = real["usage"]["models"]["claude-sonnet-5-5"]["input_tokens"]
    assert estimated == pytest.approx(billed, rel=0.25)


def test_dry_run_without_a_key_estimates_from_sizes(
    panel_cli: Cli, fake: FakeAnthropic, long_doc: str
) -> None:
    """No key: the estimate is made from sizes, and nothing at all is sent."""
    plan = panel_cli("review", long_doc, "--dry-run", "--json", env={"ANTHROPIC_API_KEY": ""})
    assert plan.json()["estimate"]["counted"] is False and fake.requests == []


def test_dry_run_puts_the_estimate_first_and_prompts_behind_verbose(
    panel_cli: Cli, fake: FakeAnthropic, long_doc: str
) -> None:
    """The estimate is the first line; the prompts appear only with --verbose."""
    short = panel_cli("review", long_doc, "--dry-run").stdout
    assert short.startswith("Estimate: $") and "System prompt" not in short
    assert "System prompt" in panel_cli("review", long_doc, "--dry-run", "--verbose").stdout


def test_commands_that_call_no_api_do_not_import_the_sdk(tmp_path: Path) -> None:
    """`panel --help`, a keyless --dry-run and the readers never import the SDK (~1 s)."""
    code = (
        "import sys; from panel.cli.program import app; from typer.testing import CliRunner; "
        "CliRunner().invoke(app, sys.argv[1:]); "
        "assert 'anthropic' not in sys.modules, 'SDK imported'"
    )
    (tmp_path / "a.md").write_text("# Acme\n\nAcme is a CLI.\n")
    for args in (["--help"], ["review", str(tmp_path / "a.md"), "--dry-run"], ["list"]):
        proc = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, (args, proc.stderr)
