"""Benchmark the shared prompt cache of one `panel review`, against the fake API, in one run.

    python bench/cache_bench.py [--lines 1200] [--latency 1.0]

Reviews one long document (about 20k tokens at the default) with the real `panel` command. The
first persona's reply is streamed and the other three start as it begins, so they read the cache
it writes. Reports each persona's cache write and read tokens, the persona calls' cost against
what four simultaneous writes of the same prefix would cost (computed from the same recorded
usage and prices.toml), and the wall time against the per-call latency.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from panel.judge.pricing import cost  # noqa: E402
from panel.model.verdict import Usage  # noqa: E402
from tests.fake_anthropic import FakeAnthropic  # noqa: E402

KEY = "sk-ant-bench"
PANEL = str(Path(sys.executable).parent / "panel")
MODEL = "claude-sonnet-5-5"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1200, help="lines in the document")
    parser.add_argument("--latency", type=float, default=1.0, help="seconds per Messages call")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeAnthropic(api_key=KEY, latency=(args.latency, args.latency)) as fake,
    ):
        doc = Path(tmp) / "manual.md"
        doc.write_text(
            "# Bigdoc\n\n" + "Bigdoc has a long manual that says it all twice.\n" * args.lines
        )
        env = {
            **os.environ,
            "ANTHROPIC_BASE_URL": fake.url,
            "ANTHROPIC_API_KEY": KEY,
            "PANEL_HOME": str(Path(tmp) / "home"),
        }
        started = time.monotonic()
        proc = subprocess.run(
            [PANEL, "review", str(doc), "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.monotonic() - started
    run = json.loads(proc.stdout)
    usages = [Usage(**v["usage"]) for v in run["verdicts"]]
    for verdict, u in zip(run["verdicts"], usages, strict=True):
        print(
            f"{verdict['persona']:<9} cache write {u.cache_creation_input_tokens:>6}  "
            f"read {u.cache_read_input_tokens:>6}  uncached {u.input_tokens:>4}"
        )
    prefix = max(u.cache_creation_input_tokens for u in usages)
    shared = sum(cost(MODEL, u) or 0.0 for u in usages)
    four_writes = sum(
        cost(
            MODEL,
            Usage(
                input_tokens=u.input_tokens,
                output_tokens=u.output_tokens,
                cache_creation_input_tokens=prefix,
            ),
        )
        or 0.0
        for u in usages
    )
    print(
        f"persona calls: ${shared:.4f} with one shared write vs ${four_writes:.4f} with four "
        f"writes = {four_writes / shared:.2f}x cheaper"
    )
    print(
        f"wall {wall:.1f} s for the whole command at {args.latency:.1f} s per call "
        f"(process start included)"
    )


if __name__ == "__main__":
    main()
