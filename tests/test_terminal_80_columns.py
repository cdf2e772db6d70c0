"""`panel cost` and `panel jobs` read at 80 columns: no cell cut with an ellipsis, and a job id always
whole (it is what `panel export` takes); `panel review --help` tells the truth about link-local."""

from __future__ import annotations

import ipaddress

import pytest
from rich.console import Console

from panel.cli.cost import cost_view
from panel.cli.render import jobs_table
from panel.judge.spend import Report, Spend
from panel.sources.netguard import default_policy

LONG_ID = "product-hunt-weekly-backlog-2026-3f9a2c1d"


def shown(renderable, width: int = 80) -> list[str]:
    console = Console(width=width, record=True, color_system=None)
    console.print(renderable)
    return console.export_text().splitlines()


def spend(runs: int, usd: float) -> Spend:
    return Spend(
        runs=runs,
        input_tokens=1_234_567,
        output_tokens=98_765,
        cache_read_input_tokens=4_567_890,
        cache_creation_input_tokens=345_678,
        cost_usd=usd,
        list_usd=usd * 3,
        caching_saved_usd=usd * 1.5,
        batches_saved_usd=usd / 2,
    )


@pytest.fixture
def report() -> Report:
    return Report(
        tools={"claude-files-api-for-teams": spend(3, 12.3456), "tern": spend(1, 0.0145)},
        models={"claude-sonnet-5-5": spend(4, 12.36), "claude-haiku-5-5": spend(4, 0.0001)},
        total=spend(4, 12.3601),
    )


def test_cost_fits_80_columns_with_nothing_cut(report):
    """Every line fits 80 columns, no ellipsis, and every name and figure is there in full."""
    lines = shown(cost_view(report))
    assert all(len(line) <= 80 for line in lines)
    text = "\n".join(lines)
    assert "…" not in text
    for value in ("claude-files-api-for-teams", "claude-sonnet-5-5", "$12.3456", "$37.0368"):
        assert value in text
    for tokens in ("1,234,567", "4,567,890", "345,678", "98,765"):
        assert tokens in text


def test_cost_headings_are_whole_words(report):
    """The column headings are whole words (on two lines), not `tokens in (cach…` or `o…`."""
    lines = shown(cost_view(report))
    words = {w for line in lines[:4] + lines[9:13] for w in line.split()}
    assert {"runs", "spent", "list", "price", "caching", "batches", "saved"} <= words
    assert {"input", "cache", "reads", "writes", "output"} <= words


def job(job_id: str) -> dict:
    return {
        "job_id": job_id,
        "via": "batches",
        "status": "submitted",
        "done": 120,
        "failed": 3,
        "pending": 1000,
        "open_batches": 2,
        "cost_usd": 12.3456,
    }


@pytest.mark.parametrize("width", [80, 120])
def test_jobs_never_cut_an_id(width):
    """A long job id is printed whole on one line at 80 and 120 columns (regression: cut to
    `product-hunt-weekl…`, which `panel export` cannot find)."""
    lines = shown(jobs_table([job(LONG_ID), job("b-1")], width), width)
    assert all(len(line) <= width for line in lines)
    assert "…" not in "\n".join(lines)
    assert any(LONG_ID in line for line in lines)
    assert any("1000" in line and "$12.3456" in line for line in lines)


def test_jobs_table_when_it_fits():
    """Short ids at 80 columns keep the table, one row a job, headings and all."""
    lines = shown(jobs_table([job("b-1")], 80))
    assert any(
        line.split()
        == ["job", "via", "status", "done", "failed", "pending", "in", "batches", "spent"]
        for line in lines
    )
    assert any(line.split()[:3] == ["b-1", "batches", "submitted"] for line in lines)


def test_review_help_says_link_local_is_always_refused(panel_cli):
    """--allow-private's help says link-local and metadata stay refused, and the guard agrees."""
    help_text = " ".join(panel_cli("review", "--help").stdout.replace("│", " ").split())
    assert "Link-local addresses and cloud metadata endpoints are always refused" in help_text
    assert "loopback and link-local" not in help_text
    allowed = default_policy(allow_private=True)
    assert allowed(ipaddress.ip_address("169.254.10.1")) is not None
    assert allowed(ipaddress.ip_address("fe80::1")) is not None
    assert allowed(ipaddress.ip_address("10.0.0.5")) is None
