"""Benchmark `panel serve` under a crowd of voters, on SQLite and PostgreSQL, in one run.

    python bench/serve_bench.py [--votes 10000] [--clients 50] [--reference 2000]
                                [--backends sqlite,postgres]

Run from the repository root (it seeds the store with the tests' records and starts PostgreSQL as
`tests/pgcluster.py` does). The server runs in a subprocess on 127.0.0.1 (port 0), as `panel
serve` does but with the limits raised and a 8-bit proof of work: it measures the server, not
the limiter or the readers' CPUs. Every vote is a new reader on one popular page: GET the page (a
form token and a challenge), solve, POST. The reference, in the same run and on the same server,
is a GET of the bookmarks page (rendered once, no store). Reported: requests/s, p50/p99 latency,
ratios to the reference, and votes lost (accepted but not in the tally; must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx2  # noqa: E402

from panel.serve.security import solve  # noqa: E402
from panel.store.open import open_store  # noqa: E402
from tests.pgcluster import Cluster, available  # noqa: E402
from tests.serve_helpers import seed  # noqa: E402

POW_BITS = 8
SLUG = "zed"
UNLIMITED = {"vote": "1000000/minute", "vote_nojs": "1000000/minute", "new_reader": "1000000/hour"}
FIELD = re.compile(r'name="(csrf|pow_token|back|slug)" value="([^"]*)"')


def serve(home: str, url: str | None) -> None:
    """The server process: the live app over the seeded store, its URL on stdout."""
    from panel.judge.personas import load_personas
    from panel.serve.app import ServeSettings, create_app
    from panel.serve.server import bind
    from panel.serve.server import serve as run
    from panel.store.open import existing_store

    store = existing_store(Path(home), writable=True, url=url)
    settings = ServeSettings(
        home=Path(home),
        personas=load_personas(None),
        prompt_versions={},
        limits=UNLIMITED,
        pow_bits=POW_BITS,
    )
    sock = bind("127.0.0.1", 0)
    run(create_app(store, settings), sock, lambda u: print(u, flush=True))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(latencies: list[float], wall: float) -> dict[str, float]:
    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / wall, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
    }


async def crowd(base: str, clients: int, jobs: int, work: Any) -> tuple[float, list[Any]]:
    """`jobs` calls of `work(client)` shared by `clients` concurrent clients; wall time, results."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(jobs):
        queue.put_nowait(n)
    results: list[Any] = []

    async def worker() -> None:
        async with httpx2.AsyncClient(base_url=base, timeout=60) as client:
            while not queue.empty():
                queue.get_nowait()
                results.append(await work(client))

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - start, results


async def reference(client: httpx2.AsyncClient) -> tuple[float, int]:
    start = time.perf_counter()
    response = await client.get("/bookmarks.html")
    return time.perf_counter() - start, response.status_code


async def voter(client: httpx2.AsyncClient) -> tuple[float, float, int]:
    """A new reader: the page, the proof of work, the vote. Latencies of the GET and the POST."""
    client.cookies.clear()
    start = time.perf_counter()
    page = await client.get(f"/tools/{SLUG}.html")
    got = time.perf_counter() - start
    fields = dict(FIELD.findall(page.text))
    fields |= {"decision": "ship", "pow_nonce": solve(fields["pow_token"], POW_BITS)}
    start = time.perf_counter()
    response = await client.post("/vote", data=fields)
    return got, time.perf_counter() - start, response.status_code


def run_backend(
    backend: str, votes: int, clients: int, refs: int, cluster: Cluster | None
) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="panel-serve-bench-"))
    url = cluster.new_database() if cluster else None
    store = open_store(home, url=url)
    seed(store)
    store.close()
    args = [sys.executable, __file__, "--serve", str(home), *([url] if url else [])]
    with subprocess.Popen(args, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        try:
            ref_wall, ref = asyncio.run(crowd(base, clients, refs, reference))
            vote_wall, cast = asyncio.run(crowd(base, clients, votes, voter))
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    store = open_store(home, url=url)
    tally = store.votes(SLUG).total
    store.close()
    accepted = sum(1 for _, _, status in cast if status == 303)
    ref_stats = summary([t for t, _ in ref], ref_wall)
    page_stats = summary([g for g, _, _ in cast], vote_wall)
    post_stats = summary([p for _, p, _ in cast], vote_wall)
    return {
        "backend": backend,
        "clients": clients,
        "reference_get": ref_stats | {"errors": sum(1 for _, s in ref if s != 200)},
        "page_get": page_stats,
        "vote_post": post_stats,
        "votes_per_s": round(accepted / vote_wall, 1),
        "votes_sent": len(cast),
        "votes_accepted": accepted,
        "votes_refused": len(cast) - accepted,
        "votes_lost": accepted - tally,
        "ratios_to_reference": {
            "vote_p50": round(post_stats["p50_ms"] / ref_stats["p50_ms"], 2),
            "vote_p99": round(post_stats["p99_ms"] / ref_stats["p99_ms"], 2),
            "page_p50": round(page_stats["p50_ms"] / ref_stats["p50_ms"], 2),
            "votes_per_s": round(accepted / vote_wall / ref_stats["rps"], 3),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--reference", type=int, default=2_000, help="reference GETs")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--serve", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], args.serve[1] if len(args.serve) > 1 else None)
        return
    backends = args.backends.split(",")
    cluster = Cluster().start() if "postgres" in backends and available() else None
    try:
        for backend in backends:
            if backend == "postgres" and cluster is None:
                print(json.dumps({"backend": backend, "skipped": "no PostgreSQL binaries"}))
                continue
            result = run_backend(
                backend,
                args.votes,
                args.clients,
                args.reference,
                cluster if backend == "postgres" else None,
            )
            print(json.dumps(result, indent=2), flush=True)
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
