"""Run the tests' fake Anthropic API by hand, for demos and trying the CLI without a key.

python bench/fake_server.py [--latency 0.5,3] [--rpm 1000]
# then, in another shell, with the URL it prints:
ANTHROPIC_BASE_URL=http://127.0.0.1:PORT ANTHROPIC_API_KEY=test-key panel review notes.md
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fake_anthropic import FakeAnthropic


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency", default="0,0", help="seconds per Messages call, as LO,HI")
    parser.add_argument(
        "--rpm", type=int, default=None, help="requests-per-minute limit (429 past it)"
    )
    parser.add_argument("--key", default="test-key", help="the API key the fake accepts")
    args = parser.parse_args()
    lo, hi = (float(x) for x in args.latency.split(","))
    with FakeAnthropic(api_key=args.key, latency=(lo, hi), rpm_limit=args.rpm) as fake:
        print(f"ANTHROPIC_BASE_URL={fake.url} ANTHROPIC_API_KEY={args.key}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
