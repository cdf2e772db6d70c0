"""Benchmark `panel batch` (live mode) on a 500-tool backlog against the fake API, in one run.

    python bench/batch_bench.py [--tools 500] [--rpm 3000] [--concurrency 64]

Run from the repository root (it imports the fake server from `tests/`). The fake answers each
call after 0.5-3 s and enforces a requests-per-minute limit with 429s, like the real API. Reports:

- makespan / bound, where bound = max(requests / rpm * 60, requests * mean latency / concurrency):
  the least time any client could take under that rate limit, latency and in-flight cap;
- uploads against unique documents (each shared document should go up once);
- 429s the server answered (the scheduler should keep this at or near zero);
- peak requests in flight at the server (never above --concurrency).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from panel import backlog as backlogs  # noqa: E402
from panel.api.client import Client  # noqa: E402
from panel.api.scheduler import Limits  # noqa: E402
from panel.batch.context import Options  # noqa: E402
from panel.batch.runner import run_job  # noqa: E402
from panel.config import resolve  # noqa: E402
from panel.judge.personas import load_personas  # noqa: E402
from panel.judge.prompts import Prompts  # noqa: E402
from panel.store.sqlite import Store  # noqa: E402
from tests.fake_anthropic import FakeAnthropic  # noqa: E402

KEY = "sk-ant-bench"
LATENCY = (0.5, 3.0)
SHARED_DOCS = 20


def write_backlog(folder: Path, tools: int) -> tuple[Path, int]:
    """`tools` tools, each with its own page and one of SHARED_DOCS shared vendor documents."""
    for s in range(SHARED_DOCS):
        (folder / f"vendor{s}.md").write_text(f"# Vendor {s}\n" + f"Vendor {s} terms.\n" * 400)
    lines = []
    for i in range(tools):
        (folder / f"tool{i}.md").write_text(f"# Tool {i}\n" + f"Tool {i} does its job.\n" * 150)
        files = f"tool{i}.md;vendor{i % SHARED_DOCS}.md"
        lines.append(json.dumps({"name": f"Tool {i:03d}", "files": files}))
    path = folder / "backlog.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path, tools + min(tools, SHARED_DOCS)


async def bench(tools: int, rpm: int, concurrency: int) -> dict[str, float]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeAnthropic(api_key=KEY, latency=LATENCY, rpm_limit=rpm) as fake,
    ):
        folder = Path(tmp)
        path, unique = write_backlog(folder, tools)
        settings = resolve(home=folder / "home", env={})
        store = Store(settings.home)
        rows = backlogs.load(path).rows
        options = Options(
            via="live", limits=Limits(concurrency=concurrency, rpm=rpm, itpm=None, otpm=None)
        )
        started = time.monotonic()
        summary = await run_job(
            rows,
            path,
            settings=settings,
            personas=load_personas(None),
            prompts=Prompts(None),
            store=store,
            options=options,
            job_id="bench",
            client=Client(KEY, base_url=fake.url),
            endpoint=fake.url,
        )
        makespan = time.monotonic() - started
        requests = sum(1 for _, p, status in fake.requests if p == "/v1/messages" and status == 200)
        mean_latency = sum(LATENCY) / 2
        bound = max(requests / rpm * 60, requests * mean_latency / concurrency)
        return {
            "tools": tools,
            "done": summary["counts"]["done"],
            "requests": requests,
            "rpm_limit": rpm,
            "concurrency": concurrency,
            "makespan_s": round(makespan, 1),
            "bound_s": round(bound, 1),
            "makespan_over_bound": round(makespan / bound, 3),
            "uploads": len(fake.uploads),
            "unique_documents": unique,
            "answered_429": fake.count_429,
            "peak_in_flight": fake.peak_in_flight,
            "cost_usd": summary["cost_usd"],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", type=int, default=500)
    parser.add_argument("--rpm", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    result = asyncio.run(bench(args.tools, args.rpm, args.concurrency))
    print(
        f"{result['done']}/{result['tools']} tools, {result['requests']} calls, "
        f"rpm limit {result['rpm_limit']}, concurrency {result['concurrency']}, latency 0.5-3 s\n"
        f"makespan {result['makespan_s']} s / bound {result['bound_s']} s "
        f"= {result['makespan_over_bound']}\n"
        f"uploads {result['uploads']} / unique documents {result['unique_documents']}\n"
        f"429s answered {result['answered_429']}\n"
        f"peak requests in flight {result['peak_in_flight']}"
    )
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "batch_bench.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
