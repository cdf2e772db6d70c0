"""Benchmark `panel batch` (live mode, no rate flags) on a backlog against the fake API, in one run.

    python bench/batch_bench.py [--tools 100] [--rpm 4000] [--concurrency 16]

Run from the repository root (it imports the fake server from `tests/`). The fake answers each
call after 0.5-3 s and enforces `--rpm` requests a minute per model class (and generous token
limits), with the `anthropic-ratelimit-*` headers and 429s, like the real API. The client is given
no limits: it starts at the conservative tier and learns the real ones from the headers. Reports:

- makespan / bound, where bound = max(calls of the busiest model / rpm * 60,
  calls * mean latency / concurrency): the least time any client could take under that rate limit,
  latency and in-flight cap;
- uploads against unique documents (each shared document should go up once);
- 429s the server answered (the scheduler should keep this at or near zero);
- peak requests in flight at the server (never above --concurrency);
- client CPU per call, and makespan and CPU per call against a reference client (`reference`: the
  bare SDK making the same calls in the same order, on a fake of its own, in the same run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from panel.api.client import Client  # noqa: E402
from panel.api.scheduler import Limits  # noqa: E402
from panel.batch import backlog as backlogs  # noqa: E402
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


def _serve(conn: Connection, rpm: int) -> None:
    """The fake API in a process of its own: the URL out, then, when told to stop, what it saw."""
    with FakeAnthropic(api_key=KEY, latency=LATENCY) as fake:
        fake.limits = {"*": (rpm, 10**9, 10**9)}
        conn.send(fake.url)
        conn.recv()
        conn.send(
            {
                "requests": fake.requests,
                "message_requests": [
                    {"model": m["model"], "_status": m["_status"]} for m in fake.message_requests
                ],
                "uploads": len(fake.uploads),
                "count_429": fake.count_429,
                "peak_in_flight": fake.peak_in_flight,
            }
        )


@contextmanager
def fake_process(rpm: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """The fake API in another process, so its CPU (and its threads' hold on the GIL) is not
    counted as the client's; yields its URL and, once the block ends, fills in what it saw."""
    here, there = multiprocessing.Pipe()
    proc = multiprocessing.get_context("fork").Process(target=_serve, args=(there, rpm))
    proc.start()
    seen: dict[str, Any] = {}
    try:
        yield here.recv(), seen
        here.send("stop")
        seen.update(here.recv())
    finally:
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()


async def reference(tools: int, rpm: int, concurrency: int) -> dict[str, float]:
    """The same calls from the least a client can be: the bare SDK, no store, no scheduler.

    Per tool, as panel orders them: both documents uploaded (a shared one once), the first
    persona streamed until its first event (its cache write is then readable), then the other
    personas and the card at once; at most `concurrency` tools and `concurrency` calls at a time.
    Each reply's JSON is validated against the same schema. Its makespan and CPU per call are what
    panel's are measured against, on a fake of its own in the same run."""
    import anthropic

    from panel.api.client import output_config
    from panel.config import DEFAULT_CARD_MAX_TOKENS, DEFAULT_CARD_MODEL
    from panel.judge.framing import persona_instruction
    from panel.model.verdict import Verdict, card_schema

    with tempfile.TemporaryDirectory() as tmp, fake_process(rpm) as (url, fake):
        folder = Path(tmp)
        write_backlog(folder, tools)
        settings = resolve(home=folder / "home", env={})
        prompts, personas = Prompts(None), load_personas(None)
        system = [{"type": "text", "text": prompts.render("system")}]
        sdk = anthropic.AsyncAnthropic(api_key=KEY, base_url=url)
        calls, tools_at_once = asyncio.Semaphore(concurrency), asyncio.Semaphore(concurrency)
        shared: dict[str, asyncio.Task[str]] = {}
        card = card_schema()

        async def upload(name: str) -> str:
            data = (folder / name).read_bytes()
            meta = await sdk.files.upload(file=(name, data, "text/plain"))
            return meta.id

        async def call(
            model: str, schema: Any, content: list[Any], max_tokens: int, **kw: Any
        ) -> None:
            params = {
                "model": model,
                "max_tokens": max_tokens,
                "system": system,
                "messages": [{"role": "user", "content": content}],
                "output_config": output_config(schema),
            }
            async with calls:
                if started := kw.get("started"):
                    text = []
                    async with await sdk.messages.create(**params, stream=True) as stream:
                        async for event in stream:
                            if event.type == "message_start":
                                started.set()
                            elif (
                                event.type == "content_block_delta"
                                and event.delta.type == "text_delta"
                            ):
                                text.append(event.delta.text)
                    schema.model_validate_json("".join(text))
                else:
                    message = await sdk.messages.create(**params)
                    schema.model_validate_json(message.content[-1].text)

        async def tool(i: int) -> None:
            async with tools_at_once:
                vendor = f"vendor{i % SHARED_DOCS}.md"
                if vendor not in shared:
                    shared[vendor] = asyncio.ensure_future(upload(vendor))
                own, theirs = await asyncio.gather(upload(f"tool{i}.md"), shared[vendor])
                docs = [
                    {"type": "document", "source": {"type": "file", "file_id": fid}, "title": t}
                    for fid, t in ((own, f"tool{i}"), (theirs, vendor))
                ]
                cached = [*docs[:-1], {**docs[-1], "cache_control": {"type": "ephemeral"}}]

                def asks(persona: Any) -> list[Any]:
                    text = persona_instruction(prompts, persona, f"Tool {i:03d}")
                    return [*cached, {"type": "text", "text": text}]

                started = asyncio.Event()
                first = asyncio.ensure_future(
                    call(
                        settings.model,
                        Verdict,
                        asks(personas[0]),
                        settings.max_tokens,
                        started=started,
                    )
                )
                await started.wait()
                card_text = prompts.render("card", tool_name=f"Tool {i:03d}")
                await asyncio.gather(
                    first,
                    *(
                        call(settings.model, Verdict, asks(p), settings.max_tokens)
                        for p in personas[1:]
                    ),
                    call(
                        DEFAULT_CARD_MODEL,
                        card,
                        [*docs, {"type": "text", "text": card_text}],
                        DEFAULT_CARD_MAX_TOKENS,
                    ),
                )

        started, cpu = time.monotonic(), time.process_time()
        await asyncio.gather(*(tool(i) for i in range(tools)))
        makespan, cpu = time.monotonic() - started, time.process_time() - cpu
        await sdk.close()
    requests = sum(1 for _, p, status in fake["requests"] if p == "/v1/messages" and status == 200)
    return {
        "makespan_s": round(makespan, 1),
        "client_cpu_s": round(cpu, 2),
        "client_cpu_ms_per_call": round(cpu / requests * 1000, 2),
        "requests": requests,
        "answered_429": fake["count_429"],
        "peak_in_flight": fake["peak_in_flight"],
    }


async def bench(tools: int, rpm: int, concurrency: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, fake_process(rpm) as (url, fake):
        folder = Path(tmp)
        path, unique = write_backlog(folder, tools)
        settings = resolve(home=folder / "home", env={})
        store = Store(settings.home)
        rows = backlogs.load(path).rows
        options = Options(via="live", limits=Limits(concurrency=concurrency))
        client = Client(KEY, base_url=url)  # the SDK's import is not a call's cost
        started, cpu = time.monotonic(), time.process_time()
        summary = await run_job(
            rows,
            path,
            settings=settings,
            personas=load_personas(None),
            prompts=Prompts(None),
            store=store,
            options=options,
            job_id="bench",
            client=client,
            endpoint=url,
        )
        makespan, cpu = time.monotonic() - started, time.process_time() - cpu
    requests = sum(1 for _, p, status in fake["requests"] if p == "/v1/messages" and status == 200)
    calls = len(fake["requests"])
    models = [m["model"] for m in fake["message_requests"] if m["_status"] == 200]
    busiest = max(models.count(m) for m in set(models))
    mean_latency = sum(LATENCY) / 2
    bound = max(busiest / rpm * 60, requests * mean_latency / concurrency)
    return {
        "tools": tools,
        "done": summary["counts"]["done"],
        "requests": requests,
        "rpm_limit": rpm,
        "concurrency": concurrency,
        "makespan_s": round(makespan, 1),
        "bound_s": round(bound, 1),
        "makespan_over_bound": round(makespan / bound, 3),
        "client_cpu_s": round(cpu, 2),
        "client_cpu_ms_per_call": round(cpu / requests * 1000, 2),
        "client_cpu_over_makespan": round(cpu / makespan, 3),
        "http_requests": calls,
        "uploads": fake["uploads"],
        "unique_documents": unique,
        "answered_429": fake["count_429"],
        "peak_in_flight": fake["peak_in_flight"],
        "cost_usd": summary["cost_usd"],
        "limits_learned": summary["limits_learned"],
    }


CACHE_CHOICES = ("none", "5m", "1h", "warm")


async def batches_vs_live(tools: int) -> dict[str, Any]:
    """The same backlog live and through Message Batches with each cache choice, on one fake that
    runs a batch's requests concurrently in random order (entries open once the batch is done).
    Each mode's cost against live's, and against live list price: the same calls at list price
    (every input token at the input price, no batch discount)."""
    from panel.judge.pricing import list_cost

    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeAnthropic(api_key=KEY, latency=(0.01, 0.05)) as fake,
    ):
        fake.batch_delay = 0.05
        folder = Path(tmp)
        path, _ = write_backlog(folder, tools)
        settings = resolve(home=folder / "home", env={})
        store = Store(settings.home)
        rows = backlogs.load(path).rows
        modes: dict[str, dict[str, float]] = {}
        for mode in ("live", *CACHE_CHOICES):
            fake.clear_cache()
            batches_before = len(fake.batches)
            via = "live" if mode == "live" else "batches"
            options = Options(
                via=via,  # type: ignore[arg-type]
                limits=Limits(concurrency=16),
                poll_s=0.05,
                batch_cache="none" if mode == "live" else mode,  # type: ignore[arg-type]
            )
            summary = await run_job(
                rows,
                path,
                settings=settings,
                personas=load_personas(None),
                prompts=Prompts(None),
                store=store,
                options=options,
                job_id=mode,
                client=Client(KEY, base_url=fake.url),
                endpoint=fake.url,
            )
            listed = 0.0
            for row in store.db.execute("SELECT run_id FROM runs WHERE job_id = ?", (mode,)):
                run = store.load_run(row["run_id"])
                for model, share in run.usage.models.items():
                    listed += list_cost(model, share) or 0.0
            modes[mode] = {
                "usd": summary["cost_usd"],
                "list_usd": round(listed, 6),
                "batches": len(fake.batches) - batches_before,
                "done": summary["counts"]["done"],
            }
        live = modes["live"]
        for m in modes.values():
            m["over_live"] = round(m["usd"] / live["usd"], 3)
            m["over_live_list_price"] = round(m["usd"] / live["list_usd"], 3)
        cheapest = min(CACHE_CHOICES, key=lambda c: modes[c]["usd"])
        return {"tools": tools, "modes": modes, "cheapest": cheapest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", type=int, default=100)
    parser.add_argument("--rpm", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--batches",
        type=int,
        default=0,
        metavar="TOOLS",
        help="instead: TOOLS tools live and via Message Batches with each cache choice, and "
        "their costs against live",
    )
    args = parser.parse_args()
    if args.batches:
        ratios = asyncio.run(batches_vs_live(args.batches))
        print(f"{ratios['tools']} tools; cost / live, cost / live list price:")
        for mode, m in ratios["modes"].items():
            label = mode if mode == "live" else f"batches, cache {mode}"
            print(
                f"  {label:<20} ${m['usd']:.4f}  {m['over_live']:.3f}  "
                f"{m['over_live_list_price']:.3f}  ({m['batches']} batches, {m['done']} done)"
            )
        print(f"cheapest batch cache choice: {ratios['cheapest']}")
        out = ROOT / "bench" / "out"
        out.mkdir(exist_ok=True)
        (out / "batch_cache.json").write_text(json.dumps(ratios, indent=2) + "\n")
        return
    result = asyncio.run(bench(args.tools, args.rpm, args.concurrency))
    ref = asyncio.run(reference(args.tools, args.rpm, args.concurrency))
    result["reference"] = ref
    result["makespan_over_reference"] = round(result["makespan_s"] / ref["makespan_s"], 3)
    result["cpu_per_call_over_reference"] = round(
        result["client_cpu_ms_per_call"] / ref["client_cpu_ms_per_call"], 3
    )
    print(
        f"{result['done']}/{result['tools']} tools, {result['requests']} calls, "
        f"rpm limit {result['rpm_limit']} per model, no flags, concurrency "
        f"{result['concurrency']}, latency 0.5-3 s\n"
        f"makespan {result['makespan_s']} s / bound {result['bound_s']} s "
        f"= {result['makespan_over_bound']}\n"
        f"client CPU {result['client_cpu_s']} s = {result['client_cpu_ms_per_call']} ms a call, "
        f"{result['client_cpu_over_makespan']} of the makespan (the fake runs in its own process)\n"
        f"uploads {result['uploads']} / unique documents {result['unique_documents']}\n"
        f"429s answered {result['answered_429']}\n"
        f"peak requests in flight {result['peak_in_flight']}\n"
        f"limits learned from the headers: {result['limits_learned']}\n"
        f"reference client (the bare SDK, the same calls in the same order, no store): makespan "
        f"{ref['makespan_s']} s, CPU {ref['client_cpu_ms_per_call']} ms a call\n"
        f"panel / reference: makespan {result['makespan_over_reference']}, "
        f"CPU a call {result['cpu_per_call_over_reference']}"
    )
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "batch_bench.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
