"""Run lookups in the store: order, latest, TOOL and RUN_ID arguments (on both stores)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from panel.errors import InputError
from panel.store.sqlite import Store
from tests.runs import make_run, verdict

SAME_SECOND = "2026-11-25T13:00:00+00:00"


def test_runs_in_the_same_second_keep_the_order_they_were_recorded_in(
    make_store: Callable[..., Store],
) -> None:
    """Regression: ids in one second sorted by their random suffix, so "latest" could be older."""
    store = make_store()
    for run_id in ("20261125T130000-ffffff", "20261125T130000-000000"):
        store.save_run(make_run(run_id, [verdict("builder", 70)], created_at=SAME_SECOND))
    assert store.run_ids("acme") == ["20261125T130000-ffffff", "20261125T130000-000000"]
    assert store.latest_run_id("acme") == "20261125T130000-000000"
    assert [r.run_id for r in store.tool_rows()] == ["20261125T130000-000000"]


def test_tool_argument_takes_the_slug_or_the_name(make_store: Callable[..., Store]) -> None:
    """`acme-cli` and `Acme CLI` name the same tool; a run id names one run."""
    store = make_store()
    store.save_run(make_run("r1", [verdict("builder", 70)], slug="acme-cli"))
    assert store.slug_of("acme-cli") == store.slug_of("Acme CLI") == "acme-cli"
    assert store.run_for("r1").run_id == store.run_for("Acme CLI").run_id == "r1"


@pytest.mark.parametrize("tool", ["widgetly", "!!!"])
def test_unknown_tool_suggests_list(make_store: Callable[..., Store], tool: str) -> None:
    """A TOOL with no runs (or nothing to slugify) is an error pointing at `panel list`."""
    with pytest.raises(InputError, match="panel list"):
        make_store().runs_of(tool)
