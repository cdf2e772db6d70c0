"""Benchmark several `panel batch` workers on one job in the shared PostgreSQL store, in one run.

    python bench/team_bench.py [--tools 60] [--workers 3] [--concurrency 4] [--via live|batches]

Run from the repository root as the tests are (it imports the throwaway cluster and the fake API
from `tests/`; Debian's `postgresql` server binaries must be installed). The same backlog is
worked once by one worker and once by `--workers` workers started together, each a `panel batch`
process with its own data home (its own machine) and the team's database, against one fake API
answering each call after 0.2-0.8 s. For each: tools, runs, tools with more than one run, uploads
against unique documents, wall time; and the speed-up of the team over one worker.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from tests.fake_anthropic import FakeAnthropic  # noqa: E402
from tests.pgcluster import Cluster, available  # noqa: E402

KEY = "sk-ant-bench"
LATENCY = (0.2, 0.8)
PANEL = str(Path(sys.executable).parent / "panel")


def write_backlog(folder: Path, tools: int, shared: int = 2) -> tuple[Path, int]:
    """`tools` tools, each with its own page and all sharing `shared` vendor documents."""
    for s in range(shared):
        (folder / f"shared{s}.md").write_text(f"# Shared {s}\n" + "Common vendor terms.\n" * 120)
    lines = []
    for i in range(tools):
        (folder / f"tool{i}.md").write_text(f"# Tool {i}\n" + f"Tool {i} does its job.\n" * 60)
        files = ";".join([f"tool{i}.md", *(f"shared{s}.md" for s in range(shared))])
        lines.append(json.dumps({"name": f"Tool {i:03d}", "files": files}))
    path = folder / "backlog.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path, tools + shared


def team(
    fake: FakeAnthropic, url: str, folder: Path, backlog: Path, workers: int, flags: list[str]
) -> float:
    """Start `workers` workers together on one job; the wall time until the last one exits."""
    env = {**os.environ, "ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": fake.url}
    env["PANEL_DATABASE_URL"] = url
    env.pop("PANEL_HOME", None)
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            [PANEL, "batch", str(backlog), "--job", "team", *flags],
            env={**env, "PANEL_HOME": str(folder / f"home-{workers}-{i}")},
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for i in range(workers)
    ]
    for proc in procs:
        _, stderr = proc.communicate(timeout=1800)
        if proc.returncode != 0:
            raise SystemExit(f"a worker failed ({proc.returncode}): {stderr.decode()[-500:]}")
    return time.monotonic() - started


def measure(
    cluster: Cluster, folder: Path, tools: int, workers: int, flags: list[str]
) -> dict[str, Any]:
    url = cluster.new_database()
    with FakeAnthropic(api_key=KEY, latency=LATENCY) as fake:
        fake.limits = {"*": (4000, 10**9, 10**9)}
        fake.batch_delay = 2.0
        backlog, unique = write_backlog(folder / f"run-{workers}", tools)
        wall = team(fake, url, folder, backlog, workers, flags)
        uploads = len(fake.uploads)
    with psycopg.connect(url) as conn:
        slugs = [r[0] for r in conn.execute("SELECT slug FROM runs").fetchall()]
        left = conn.execute("SELECT COUNT(*) FROM job_items WHERE state <> 'done'").fetchone()
    return {
        "workers": workers,
        "tools": tools,
        "runs": len(slugs),
        "tools_with_two_runs": len(slugs) - len(set(slugs)),
        "items_not_done": left[0] if left else 0,
        "uploads": uploads,
        "unique_documents": unique,
        "wall_s": round(wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", type=int, default=60)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--via", choices=("live", "batches"), default="live")
    args = parser.parse_args()
    if not available():
        raise SystemExit("PostgreSQL server binaries missing: apt-get install postgresql")
    flags = ["--concurrency", str(args.concurrency), "--via", args.via, "--poll", "0.2"]
    cluster = Cluster().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            for n in (1, args.workers):
                (folder / f"run-{n}").mkdir()
            results = [measure(cluster, folder, args.tools, n, flags) for n in (1, args.workers)]
    finally:
        cluster.stop()
    one, many = results
    print(
        f"{args.tools} tools, --via {args.via}, concurrency {args.concurrency} per worker, "
        f"latency {LATENCY[0]}-{LATENCY[1]} s"
    )
    for r in results:
        print(
            f"{r['workers']} worker(s): {r['runs']} runs ({r['tools_with_two_runs']} tools twice, "
            f"{r['items_not_done']} not done), uploads {r['uploads']} / unique documents "
            f"{r['unique_documents']}, wall {r['wall_s']} s"
        )
    print(f"{args.workers} workers / 1 worker: {many['wall_s'] / one['wall_s']:.2f} of the time")
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "team_bench.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
