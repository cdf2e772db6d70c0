"""Issue 20: a score is an integer 0..100 in a reply and in a stored record, never a bool or NaN."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from panel.api.replies import validate_reply
from panel.model.verdict import Verdict
from panel.store.records import BadRecord
from panel.store.sqlite import Store
from tests.conftest import Result
from tests.runs import make_run, verdict

PERSONAS = ("builder", "skeptic", "founder", "futurist")
BAD_SCORES = ["true", "1000", "-5", "NaN", '"80"', "80.5"]


def reply(score: str) -> str:
    return f'{{"score": {score}, "decision": "ship", "rationale": "Solid."}}'


@pytest.mark.parametrize("score", BAD_SCORES)
def test_a_reply_with_a_bad_score_is_a_failed_verdict(score: str) -> None:
    """`"score": true` is not recorded as 1, nor 1000, -5, NaN, a string or a fraction."""
    parsed, error = validate_reply(Verdict, reply(score), "end_turn")
    assert parsed is None and error is not None and "score" in error


def test_a_reply_with_a_whole_score_is_kept() -> None:
    """The bounds themselves are scores."""
    for score in (0, 100):
        parsed, error = validate_reply(Verdict, reply(str(score)), "end_turn")
        assert error is None and parsed is not None and parsed.score == score


def stored_with(home: Path, score: str, field: str = "score") -> Path:
    """A home whose one run record has `score` written into its first verdict's `field`."""
    store = Store(home)
    path = store.save_run(make_run("r1", [verdict(p, 80) for p in PERSONAS]))
    store.close()
    data = json.loads(path.read_text())
    text = re.sub(rf'"{field}": 80(\.0)?\b', f'"{field}": {score}', json.dumps(data), count=1)
    assert text != json.dumps(data)
    path.write_text(text)
    return path


@pytest.mark.parametrize("score", BAD_SCORES)
def test_a_stored_record_with_a_bad_score_is_refused_naming_the_file(
    tmp_path: Path, score: str
) -> None:
    """Reading it is a BadRecord that names the record and the field."""
    path = stored_with(tmp_path / "home", score)
    store = Store.existing(tmp_path / "home")
    with pytest.raises(BadRecord, match=r"verdicts\.0\.score") as info:
        store.load_run("r1")
    assert str(path) in str(info.value)


@pytest.mark.parametrize("mean", ["1000.0", "-5.0", "NaN", "Infinity"])
def test_a_stored_mean_out_of_bounds_is_refused(tmp_path: Path, mean: str) -> None:
    """The panel's mean is bounded as its scores are."""
    stored_with(tmp_path / "home", mean, field="mean_score")
    store = Store.existing(tmp_path / "home")
    with pytest.raises(BadRecord, match=r"panel\.mean_score"):
        store.load_run("r1")


@pytest.mark.e2e
def test_show_and_site_never_publish_a_score_of_1000(
    panel_cli: Callable[..., Result], isolated_env: Path, tmp_path: Path
) -> None:
    """show: one line naming the file, exit 2; site leaves the run out with a warning."""
    path = stored_with(isolated_env, "1000")
    shown = panel_cli("show", "r1")
    assert shown.code == 2 and shown.stderr.count("\n") == 1, shown.stderr
    assert str(path) in shown.stderr and "less than or equal to 100" in shown.stderr
    site = panel_cli("site", str(tmp_path / "site"))
    pages = "".join(p.read_text() for p in (tmp_path / "site").rglob("*.html"))
    assert "1000" not in pages and "r1" in site.stderr
