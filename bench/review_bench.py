"""One review, side by side with two reference clients, against the fake API, in one run.

    python bench/review_bench.py [--tokens 20000] [--reply-tokens 350] [--latency SECONDS]

Run from the repository root. The fake follows the cache rule of the real API (an entry is
readable once the response that wrote it has started) and, by default, its latency model
(`Timing`): time to first token is a fixed overhead plus prefill of the input the cache did not
supply, the rest of the call is generation per output token, and every persona answers with a
rationale of `--reply-tokens` tokens, as long as the system prompt asks for. `--latency S` uses
the flat model instead: every call takes S seconds and a stream opens after a fifth of it. The
output states which model ran. Three clients review the same document with the same four
persona instructions:

- panel:      the real `panel review` command (Files API, streamed first persona, three cache reads);
- naive:      four sequential calls, each re-sending the whole document inline, no caching;
- concurrent: the document uploaded once, all four calls at once with cache_control (each writes).

Reported, from the fake's own request log and the recorded usage:
1. billed input equivalents (input + cache writes and reads at their price, in input tokens) of the
   persona calls, as a share of the naive client's;
2. persona-call span (first persona request in to last answer out) over the slowest single call,
   the whole command's wall time, and how long after the first persona's stream opened the
   others arrived;
3. the review pipeline's CPU time in-process (fake in another process, so its work is excluded),
   and the import time of `panel --help` and `panel review`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from panel.judge.personas import load_personas  # noqa: E402
from panel.judge.pricing import price_table  # noqa: E402
from panel.judge.prompts import Prompts  # noqa: E402
from tests.fake_anthropic import FakeAnthropic, Reply, Timing  # noqa: E402

KEY = "sk-ant-bench"
PANEL = str(Path(sys.executable).parent / "panel")
MODEL = "claude-sonnet-5-5"


def billed_input(usages: list[dict[str, int]]) -> float:
    """Input tokens a bill would show, counting cache writes and reads at their price."""
    p = price_table()[MODEL]
    total = 0.0
    for u in usages:
        total += u.get("input_tokens", 0) * p["input"]
        total += u.get("cache_creation_input_tokens", 0) * p["cache_write_5m"]
        total += u.get("cache_read_input_tokens", 0) * p["cache_read"]
    return total / p["input"]


def persona_calls(fake: FakeAnthropic, since: int) -> list[dict[str, Any]]:
    return [
        m
        for m in fake.message_requests[since:]
        if m["model"] == MODEL and m["_status"] == 200 and "_ended" in m
    ]


def span(calls: list[dict[str, Any]]) -> tuple[float, float]:
    """(first request in to last answer out, the slowest single call)."""
    start = min(c["_started"] for c in calls)
    end = max(c["_ended"] for c in calls)
    return end - start, max(c["_ended"] - c["_started"] for c in calls)


def open_to_others(calls: list[dict[str, Any]]) -> float | None:
    """Seconds from the first persona's stream opening to the last other persona arriving."""
    first = min(calls, key=lambda c: c["_started"])
    others = [c["_started"] for c in calls if c is not first]
    return max(others) - first["_opened"] if "_opened" in first and others else None


def script_replies(fake: FakeAnthropic, tokens: int, rounds: int) -> None:
    """Every persona answers with a rationale of about `tokens` tokens (4 characters each)."""
    sentence = "The documents show a tool with a clear primitive and a plausible buyer. "
    rationale = (sentence * (tokens * 4 // len(sentence) + 1))[: tokens * 4].strip()
    for persona in load_personas(None):
        reply = Reply.verdict(80, "ship", rationale)
        fake.script(f"as the {persona.name}", *[reply] * rounds)


def latency_model(args: argparse.Namespace) -> tuple[tuple[float, float], Timing | None, str]:
    """The fake's latency, its timing model, and the line that states them in the output."""
    if args.latency is not None:
        flat = f"flat: every call {args.latency:g} s, a stream opens after a fifth of it"
        return (args.latency, args.latency), None, flat
    timing = Timing()
    return (0.0, 0.0), timing, f"{timing.describe()}; replies of {args.reply_tokens} tokens"


def instructions() -> tuple[str, list[str]]:
    prompts = Prompts(None)
    personas = load_personas(None)
    system = prompts.render("system")
    text = [
        prompts.render("persona", persona=p, tool_name="the tool described in the documents")
        for p in personas
    ]
    return system, text


def usage_of(message: Any) -> dict[str, int]:
    u = message.usage
    return {
        "input_tokens": u.input_tokens,
        "cache_creation_input_tokens": u.cache_creation_input_tokens or 0,
        "cache_read_input_tokens": u.cache_read_input_tokens or 0,
    }


async def naive(base_url: str, document: str) -> list[dict[str, int]]:
    """Four sequential calls, each carrying the whole document as text."""
    import anthropic

    system, texts = instructions()
    usages = []
    async with anthropic.AsyncAnthropic(api_key=KEY, base_url=base_url, max_retries=0) as client:
        for text in texts:
            message = await client.messages.create(
                model=MODEL,
                max_tokens=1500,
                system=system,
                messages=[{"role": "user", "content": f"{document}\n\n{text}"}],
            )
            usages.append(usage_of(message))
    return usages


async def concurrent(base_url: str, path: Path) -> list[dict[str, int]]:
    """One upload, then all four calls at the same instant, each marking the prefix cacheable."""
    import anthropic

    system, texts = instructions()
    async with anthropic.AsyncAnthropic(api_key=KEY, base_url=base_url, max_retries=0) as client:
        meta = await client.files.upload(file=(path.name, path.read_bytes(), "text/plain"))
        return list(await asyncio.gather(*(one(client, meta.id, system, t) for t in texts)))


async def one(client: Any, file_id: str, system: str, text: str) -> dict[str, int]:
    """One persona call of the concurrent client, marking the document prefix cacheable."""
    message = await client.messages.create(
        model=MODEL,
        max_tokens=1500,
        system=system,
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "document",
                        "source": {"type": "file", "file_id": file_id},
                        "cache_control": {"type": "ephemeral"},
                    },
                    {"type": "text", "text": text},
                ],
            }
        ],
    )
    return usage_of(message)


def import_time(args: list[str]) -> float:
    """Wall seconds of a command that does no API work, best of three."""
    times = []
    for _ in range(3):
        started = time.monotonic()
        subprocess.run(args, capture_output=True, check=False)
        times.append(time.monotonic() - started)
    return min(times)


def pipeline_cpu(doc: Path, reviews: int) -> float:
    """CPU seconds per review in this process, the fake running in another process."""
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "fake_server.py"), "--latency", "0,0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        env = dict(part.split("=", 1) for part in line.split())
        os.environ.update(env)
        import panel

        with tempfile.TemporaryDirectory() as home:
            panel.review(str(doc), home=home)  # warm: imports, first upload, connections
            cpu: list[float] = []
            for _ in range(reviews):
                started = time.process_time()
                panel.review(str(doc), home=home)
                cpu.append(time.process_time() - started)
        return statistics.median(cpu)
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20_000, help="document size in tokens")
    parser.add_argument(
        "--latency", type=float, default=None, help="flat seconds per call (default: token model)"
    )
    parser.add_argument(
        "--reply-tokens", type=int, default=350, help="output tokens of each persona's reply"
    )
    parser.add_argument("--reviews", type=int, default=5, help="reviews for the CPU figure")
    args = parser.parse_args()
    latency, timing, model_line = latency_model(args)
    line = "Bigdoc keeps a long manual that says everything twice over.\n"
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeAnthropic(api_key=KEY, latency=latency, timing=timing) as fake,
    ):
        fake.thinking = False
        script_replies(fake, args.reply_tokens, rounds=3)
        doc = Path(tmp) / "manual.md"
        doc.write_text("# Bigdoc\n\n" + line * (args.tokens * 4 // len(line)))
        env = {
            **os.environ,
            "ANTHROPIC_BASE_URL": fake.url,
            "ANTHROPIC_API_KEY": KEY,
            "PANEL_HOME": str(Path(tmp) / "home"),
        }
        mark = len(fake.message_requests)
        started = time.monotonic()
        proc = subprocess.run(
            [PANEL, "review", str(doc), "--json"], env=env, capture_output=True, text=True
        )
        wall = time.monotonic() - started
        if proc.returncode != 0:
            sys.exit(f"panel review failed: {proc.stderr}")
        panel_usage = [v["usage"] for v in json.loads(proc.stdout)["verdicts"]]
        panel_span, panel_slowest = span(persona_calls(fake, mark))
        gap = open_to_others(persona_calls(fake, mark))

        fake.clear_cache()
        mark = len(fake.message_requests)
        started = time.monotonic()
        naive_usage = asyncio.run(naive(fake.url, doc.read_text()))
        naive_wall = time.monotonic() - started
        naive_span, naive_slowest = span(persona_calls(fake, mark))

        fake.clear_cache()
        mark = len(fake.message_requests)
        started = time.monotonic()
        conc_usage = asyncio.run(concurrent(fake.url, doc))
        conc_wall = time.monotonic() - started
        conc_span, conc_slowest = span(persona_calls(fake, mark))
        cpu = pipeline_cpu(doc, args.reviews)

    base = billed_input(naive_usage)
    rows = [
        ("panel", billed_input(panel_usage), panel_span, panel_slowest, wall),
        ("naive", base, naive_span, naive_slowest, naive_wall),
        ("concurrent", billed_input(conc_usage), conc_span, conc_slowest, conc_wall),
    ]
    print(f"one review, {args.tokens:,}-token document")
    print(f"latency model: {model_line}")
    print(f"{'client':<11} {'billed input':>13} {'/ naive':>8} {'span/slowest':>13} {'wall s':>7}")
    for name, billed, s, slowest, w in rows:
        print(f"{name:<11} {billed:>13,.0f} {billed / base:>8.2f} {s / slowest:>13.2f} {w:>7.2f}")
    if gap is not None:
        print(f"the other personas arrived {gap * 1000:.0f} ms after the first stream opened")
    help_s = import_time([PANEL, "--help"])
    review_help_s = import_time([PANEL, "review", "--help"])
    print(f"panel --help {help_s:.2f} s, panel review --help {review_help_s:.2f} s (import time)")
    print(f"pipeline CPU per review (fake in another process): {cpu * 1000:.0f} ms")
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "review_bench.json").write_text(
        json.dumps(
            {
                "clients": {
                    n: {
                        "billed_input": b,
                        "over_naive": b / base,
                        "span_over_slowest": s / sl,
                        "wall_s": w,
                    }
                    for n, b, s, sl, w in rows
                },
                "latency_model": model_line,
                "open_to_others_s": gap,
                "help_s": help_s,
                "review_help_s": review_help_s,
                "pipeline_cpu_s": cpu,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
