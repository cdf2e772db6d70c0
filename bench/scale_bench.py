"""How the read-only commands grow with the store: time and peak memory per command, per size.

    python bench/scale_bench.py [--sizes 100,1000] [--max 1000] [--reference PANEL]

The store is seeded directly with synthetic run records (no API call): one run per tool, a second
run for every fifth tool, four verdicts each, usage and cost per model. For each size it runs the
real `panel` command as a subprocess (the one beside this interpreter) and reports wall time and
peak RSS of:

    site (first build), site (unchanged rebuild), site (one vote changed),
    list, cost, list --json, cost --json

(text output goes to a pipe, as in a script or a pager), and the growth rate from one size to the
next (time ratio / size ratio: 1.0 is linear). The reference in the same run, so every figure is
also a ratio: `read`, a plain sqlite3 query plus `json.loads` of every record (the least any
command that looks at every run can do), and, with `--reference PANEL`, the same commands run by
another `panel` executable (e.g. a checkout of the previous commit) on the same store.

Sizes above `--max` (default 1,000) are skipped, so the default run takes a couple of minutes;
`--sizes 100,1000,10000 --max 10000` is the full curve.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from panel.judge.decision import decide  # noqa: E402
from panel.model.run import DocumentRef, ModelUsage, Run, RunUsage, ToolInfo  # noqa: E402
from panel.model.verdict import ToolCard, Usage, VerdictRecord  # noqa: E402
from panel.store.sqlite import Store  # noqa: E402

PANEL = str(Path(sys.executable).with_name("panel"))
PERSONAS = ("builder", "skeptic", "founder", "futurist")
MODEL = "claude-sonnet-5-5"
WORDS = [
    "fast",
    "reliable",
    "pricing",
    "docs",
    "onboarding",
    "api",
    "teams",
    "latency",
    "scale",
    "secure",
    "simple",
    "stack",
    "deploy",
    "plugin",
    "ecosystem",
    "migration",
    "support",
    "cost",
    "open",
    "source",
    "cloud",
    "local",
]
READ = """
import json, sqlite3, sys
from pathlib import Path
home = Path(sys.argv[1])
db = sqlite3.connect(home / "panel.db")
n = sum(len(json.loads((home / p).read_text())["verdicts"]) for (p,) in db.execute("SELECT path FROM runs"))
print(n)
"""


def paragraph(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def synthetic_run(i: int, k: int, rng: random.Random) -> Run:
    """Tool i's k-th run: a card, two documents, four verdicts of ~80 words, usage and cost."""
    verdicts = []
    for persona in PERSONAS:
        score = rng.randint(20, 95)
        verdicts.append(
            VerdictRecord(
                persona=persona,
                persona_version=1,
                status="ok",
                score=score,
                decision="ship" if score >= 60 else "skip",
                rationale=paragraph(rng, 80),
                usage=Usage(input_tokens=900, output_tokens=350, cache_read_input_tokens=4000),
            )
        )
    share = ModelUsage(
        input_tokens=3600, output_tokens=1400, cache_read_input_tokens=16000, cost_usd=0.0421
    )
    slug = f"tool-{i:05d}"
    docs = [
        DocumentRef(
            name=f"{slug}.md",
            title=f"Tool {i} overview",
            mime="text/plain",
            origin="file",
            source=f"{slug}.md",
            size_bytes=4200,
            sha256=f"{i:064x}",
            file_id=f"file_{i:024x}",
        ),
        DocumentRef(
            name="pricing",
            title=f"Tool {i} pricing",
            mime="text/plain",
            origin="url",
            source=f"https://tool-{i}.example/pricing",
            size_bytes=2100,
            sha256=f"{i + 10**6:064x}",
            file_id=f"file_{i + 10**6:024x}",
        ),
    ]
    return Run(
        run_id=f"2026{1 + k:02d}01T{i // 3600 % 24:02d}{i // 60 % 60:02d}{i % 60:02d}-{i:06x}",
        created_at=f"2026-{1 + k:02d}-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}+00:00",
        model=MODEL,
        tool=ToolInfo(
            name=f"Tool {i:05d}",
            slug=slug,
            card=ToolCard(
                name=f"Tool {i:05d}",
                category=f"Category {i % 12}",
                tagline=paragraph(rng, 8),
                description=paragraph(rng, 40),
                pricing_summary="Free tier; teams $20 per seat.",
                pricing_model="freemium",
                best_for=paragraph(rng, 6),
            ),
        ),
        documents=docs,
        verdicts=verdicts,
        panel=decide(verdicts),
        usage=RunUsage.of({MODEL: share}),
        prompt_versions={"system": 1, "persona": 1, "card": 1},
    )


def seed(home: Path, tools: int) -> int:
    """Write the records as the store does (one JSON file each) and index them in one
    transaction; no fsync per record, so seeding 10,000 tools takes seconds."""
    rng = random.Random(tools)
    store = Store(home)
    rows = []
    for i in range(tools):
        for k in range(2 if i % 5 == 0 else 1):
            run = synthetic_run(i, k, rng)
            path = store.record_path(run)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(run.model_dump_json(indent=2) + "\n", encoding="utf-8")
            p, where = run.panel, str(path.relative_to(home))
            tool, when, model = run.tool, run.created_at, run.model
            rows.append(
                (run.run_id, tool.slug, tool.name, when, model, p.decision, p.label, p.mean_score)
            )
            rows[-1] = (*rows[-1], None, None, where)
    with store.transaction() as db:
        db.executemany(Store._insert_run, rows)
    store.close()
    return len(rows)


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and exit status of one command, its output to a pipe."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read()  # drained as a pager would, so a full pipe never stalls it
    proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, proc.returncode


def commands(panel: str, site: Path) -> list[tuple[str, list[str]]]:
    return [
        ("site first", [panel, "site", str(site)]),
        ("site unchanged", [panel, "site", str(site)]),
        ("site 1 vote", [panel, "site", str(site)]),
        ("list", [panel, "list"]),
        ("cost", [panel, "cost"]),
        ("list --json", [panel, "list", "--json"]),
        ("cost --json", [panel, "cost", "--json"]),
    ]


def run_size(tools: int, reference: str | None, repeat: int, work: Path) -> dict[str, Any]:
    """Each command by this panel and by the reference one after the other (the machine's load
    hits both alike), `repeat` times, keeping the fastest of each."""
    home = work / f"home-{tools}"
    runs = seed(home, tools)
    env = {**os.environ, "PANEL_HOME": str(home), "COLUMNS": "80"}
    env.pop("PANEL_DATABASE_URL", None)
    best: dict[str, tuple[float, float]] = {}

    def keep(name: str, secs: float, mb: float) -> None:
        old = best.get(name)
        best[name] = (min(secs, old[0]), max(mb, old[1])) if old else (secs, mb)

    sides = [("", PANEL)] + ([("ref ", reference)] if reference else [])
    for attempt in range(repeat):
        keep("read", *measure([sys.executable, "-c", READ, str(home)], env)[:2])
        plans = {
            prefix: commands(panel, work / f"site-{tools}-{attempt}-{prefix.strip() or 'new'}")
            for prefix, panel in sides
        }
        for step, (name, _) in enumerate(plans[""]):
            if name == "site 1 vote":
                vote(env, f"bench{attempt}")
            for prefix, _ in sides:
                argv = plans[prefix][step][1]
                secs, mb, code = measure(argv, env)
                if code:
                    raise SystemExit(f"{' '.join(argv)} exited {code}")
                keep(prefix + name, secs, mb)
    read_s = best["read"][0]
    result: dict[str, Any] = {"tools": tools, "runs": runs, "commands": {}}
    for name, (secs, mb) in best.items():
        entry: dict[str, float] = {"s": round(secs, 3), "mb": round(mb, 1)}
        if name != "read":
            entry["over_read"] = round(secs / read_s, 2)
        if reference and not name.startswith("ref ") and f"ref {name}" in best:
            entry["over_ref"] = round(secs / best[f"ref {name}"][0], 3)
        result["commands"][name] = entry
    shutil.rmtree(home)
    return result


def vote(env: dict[str, str], voter: str) -> None:
    """One new community vote: the site's one tool page (and the index) that shows it changes."""
    voted = subprocess.run(
        [PANEL, "vote", "tool-00001", "ship", "--voter", voter],
        env=env,
        capture_output=True,
        text=True,
    )
    if voted.returncode:
        raise SystemExit(f"panel vote failed: {voted.stderr.strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="tools per store, ascending")
    parser.add_argument(
        "--max", type=int, default=1000, help="skip sizes above this (default 1000)"
    )
    parser.add_argument(
        "--reference",
        metavar="PANEL",
        help="another panel executable to run the same commands, e.g. the previous commit's",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, keeping the fastest")
    args = parser.parse_args()
    sizes = [n for n in (int(s) for s in args.sizes.split(",")) if n <= args.max]
    results = []
    with tempfile.TemporaryDirectory(prefix="panel-scale-") as tmp:
        for tools in sizes:
            results.append(run_size(tools, args.reference, args.repeat, Path(tmp)))
            report(results)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "scale_bench.json").write_text(json.dumps(results, indent=2) + "\n")


def report(results: list[dict[str, Any]]) -> None:
    """The latest size's table; growth is against the size before it."""
    last = results[-1]
    prev = results[-2] if len(results) > 1 else None
    print(f"\n{last['tools']} tools ({last['runs']} runs)")
    print(f"  {'command':<20} {'s':>8} {'MB':>7} {'/read':>7} {'/ref':>7} {'growth':>7}")
    for name, c in last["commands"].items():
        growth = ""
        if prev and name in prev["commands"] and prev["commands"][name]["s"] > 0:
            size = last["tools"] / prev["tools"]
            growth = f"{c['s'] / prev['commands'][name]['s'] / size:.2f}"
        over_read = f"{c['over_read']:.1f}" if "over_read" in c else ""
        over_ref = f"{c['over_ref']:.3f}" if "over_ref" in c else ""
        print(
            f"  {name:<20} {c['s']:>8.2f} {c['mb']:>7.1f} {over_read:>7} {over_ref:>7} {growth:>7}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
