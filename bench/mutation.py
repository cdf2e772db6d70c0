"""A small mutation run over the pure core and the API seam: does the unit suite notice a bug?

    python bench/mutation.py [--without-new] [--only NAME ...] [--jobs N]

Each mutant is one textual edit (a comparison flipped, a boundary moved, a constant changed, a call
dropped) to one module, applied alone to a temporary copy of the repository. The module's unit tests
(`-m "not e2e and not browser"`, a fixed list of files per module, see TESTS) then run against the
copy, with PYTHONPATH pointing there so the editable install of the working tree is not imported.
A test failure, an error or a timeout (ten times the clean run, at least 30 s) kills the mutant;
all tests passing means it survived. Survivors known to be equivalent are listed in EQUIVALENT.

Tests that already fail on the unmutated copy (other work in progress) are deselected, and said so.
`--without-new` leaves out tests/test_blind_spots.py, to show what the suite caught before it.
An edit whose text is no longer in the module (the code moved on) is stale: reported, and the run
exits 1, as it does for a survivor not known to be equivalent (the list must follow the code).
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEW_TESTS = ["tests/test_blind_spots.py", "tests/test_blind_spots_core.py"]
# A mutant whose tests run this many times longer than the clean baseline is hung (killed).
TIMEOUT_FACTOR = 10
MIN_TIMEOUT_S = 30.0
IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "__pycache__", ".mypy_cache", ".ruff_cache", "runs", "artifacts", "mutants"
)

DECISION = "panel/judge/decision.py"
DOCUMENTS = "panel/sources/documents.py"
NAMES = "panel/sources/names.py"
DIFF = "panel/store/diff.py"
SCHEDULER = "panel/api/scheduler.py"
CLIENT = "panel/api/client.py"
REPLIES = "panel/api/replies.py"
REGISTRY = "panel/api/registry.py"
ENSEMBLE = "panel/judge/ensemble.py"
RETRY = "panel/api/retry.py"
METRICS = "panel/eval/metrics.py"
NETGUARD = "panel/sources/netguard.py"
ESCAPING = "panel/pages/escaping.py"
LEASES = "panel/batch/leases.py"

# The unit tests that exercise each module (directly, or through tests/runs.py for decide()).
TESTS = {
    DECISION: ["tests/test_decision.py", "tests/test_diff.py", "tests/test_history.py",
               "tests/test_store.py", "tests/test_jobs.py"],
    DOCUMENTS: ["tests/test_sources.py", "tests/test_bad_input_slugs.py", "tests/test_rerun.py",
                "tests/test_store.py"],
    NAMES:     ["tests/test_sources.py", "tests/test_bad_input_slugs.py", "tests/test_rerun.py",
                "tests/test_store.py"],
    DIFF: ["tests/test_diff.py", "tests/test_storage_faults.py", "tests/test_history.py"],
    SCHEDULER: ["tests/test_scheduler.py", "tests/test_retry.py"],
    CLIENT: ["tests/test_client.py", "tests/test_retry.py"],
    REPLIES: ["tests/test_client.py", "tests/test_retry.py"],
    REGISTRY: ["tests/test_client.py"],
    ENSEMBLE: ["tests/test_ensemble.py"],
    RETRY: ["tests/test_retry.py"],
    METRICS: ["tests/test_eval_metrics.py"],
    NETGUARD: ["tests/test_netguard.py"],
    ESCAPING: ["tests/pages/test_markdown.py"],
    LEASES: ["tests/test_leases.py", "tests/test_jobs_status.py"],
}  # fmt: skip


@dataclass(frozen=True)
class Mutant:
    name: str
    module: str
    old: str
    new: str
    nth: int = 0  # which occurrence of `old` to change, when it appears more than once


# fmt: off
MUTANTS = [
    # panel/judge/decision.py
    Mutant("tie_threshold_gt", DECISION, "mean >= threshold", "mean > threshold"),
    Mutant("majority_gt_ge", DECISION, "if ship > skip else", "if ship >= skip else"),
    Mutant("majority_ne_eq", DECISION, "if ship != skip:", "if ship == skip:"),
    Mutant("tie_no_none_check", DECISION, "mean is not None and mean >= threshold",
           "mean >= threshold"),
    Mutant("mean_round_2", DECISION, "sum(scores) / len(scores), 1)", "sum(scores) / len(scores), 2)"),
    Mutant("mean_keeps_none_scores", DECISION, "if v.score is not None]", "]"),
    Mutant("succeeded_not_failed", DECISION, 'v.status == "ok"', 'v.status != "failed"'),
    Mutant("quorum_le", DECISION, "len(ok) < min(quorum", "len(ok) <= min(quorum"),
    Mutant("quorum_no_min", DECISION, "min(quorum, len(verdicts))", "quorum"),
    Mutant("empty_not_incomplete", DECISION, " or not ok:", ":"),
    Mutant("dissent_eq", DECISION, "if v.decision != decision]", "if v.decision == decision]"),
    Mutant("share_round_2", DECISION, "ship / len(ok), 3)", "ship / len(ok), 2)"),
    Mutant("failed_count", DECISION, "failed = len(verdicts) - len(ok)", "failed = len(verdicts)"),
    Mutant("label_case", DECISION, "decision.capitalize()", "decision"),
    # panel/sources/names.py: slugify (callers import it from panel.sources.documents)
    Mutant("slug_no_cut", NAMES, '.strip("-")[:64].strip("-")', '.strip("-").strip("-")'),
    Mutant("slug_cut_63", NAMES, '.strip("-")[:64].strip("-")', '.strip("-")[:63].strip("-")'),
    Mutant("slug_no_first_strip", NAMES, '.strip("-")[:64].strip("-")', '[:64].strip("-")'),
    Mutant("slug_no_last_strip", NAMES, '.strip("-")[:64].strip("-")', '.strip("-")[:64]'),
    Mutant("slug_one_dash_per_char", NAMES, 're.sub(r"[^a-z0-9]+", "-"',
           're.sub(r"[^a-z0-9]", "-"'),
    Mutant("slug_no_lower", NAMES, "m.group()]}-\", name.lower())", "m.group()]}-\", name)"),
    Mutant("slug_ascii_ge", NAMES, "ord(c) > 127 and", "ord(c) >= 127 and"),
    Mutant("slug_hash_len", NAMES, "hexdigest()[:8]", "hexdigest()[:7]"),
    # panel/store/diff.py
    Mutant("diff_new_personas_only", DIFF,
           "order = list(after) + [p for p in before if p not in after]", "order = list(after)"),
    Mutant("diff_doc_status_flip", DIFF, '"unchanged" if prev.sha256 == doc.sha256',
           '"unchanged" if prev.sha256 != doc.sha256'),
    Mutant("diff_no_removed_docs", DIFF, "if src not in after", "if src in after"),
    Mutant("diff_delta_sign", DIFF, "else new_score - old_score", "else old_score - new_score"),
    Mutant("diff_flip_or", DIFF, "flipped=old_decision is not None\n        and",
           "flipped=old_decision is not None\n        or"),
    Mutant("diff_card_eq", DIFF, "if before.get(f) != after.get(f)", "if before.get(f) == after.get(f)"),
    Mutant("diff_slug_check", DIFF, "if old.tool.slug != new.tool.slug:", "if False:"),
    Mutant("diff_old_mean", DIFF, "old_mean=old.panel.mean_score", "old_mean=new.panel.mean_score"),
    Mutant("diff_sentence_in", DIFF, "if s not in seen]", "if s in seen]"),
    Mutant("diff_sentence_no_filter", DIFF, "return [p for p in parts if p]", "return parts"),
    Mutant("diff_label_path", DIFF, 'self.source.startswith("/")', 'self.source.startswith("./")'),
    # panel/api/scheduler.py: TokenBucket and the Scheduler's delay logic
    Mutant("sched_no_rpm_delay", SCHEDULER, "waits = [m.paused_until - now, m.requests.delay(1, now)]",
           "waits = [m.paused_until - now]"),
    Mutant("sched_no_rpm_take", SCHEDULER, "m.requests.take(1, now)", "pass"),
    Mutant("sched_no_input_delay", SCHEDULER, "waits.append(m.input.delay(tokens_in, now))", "pass"),
    Mutant("sched_no_output_take", SCHEDULER, "m.output.take(tokens_out, now)", "pass"),
    Mutant("sched_delay_lt", SCHEDULER, "if delay <= 0:", "if delay < 0:"),
    Mutant("sched_concurrency_le", SCHEDULER, "self.in_flight < self.limits.concurrency",
           "self.in_flight <= self.limits.concurrency"),
    Mutant("sched_no_priority", SCHEDULER, "if line[0] == me and", "if"),
    Mutant("sched_wake_all", SCHEDULER, "            if line:\n                self._wakers[line[0]].set()",
           "            for me in line:\n                self._wakers[me].set()"),
    Mutant("bucket_rate_per_s", SCHEDULER, "* self.headroom / 60.0", "* self.headroom / 30.0"),
    Mutant("bucket_no_cap", SCHEDULER, "self.level = min(self.capacity, self.level + (now",
           "self.level = (self.level + (now"),
    Mutant("bucket_refill_ignores_share", SCHEDULER, "* self.rate * self.share)", "* self.rate)"),
    Mutant("bucket_level_gt", SCHEDULER, "if self.level >= need else", "if self.level > need else"),
    Mutant("bucket_need_no_cap", SCHEDULER, "need = min(amount, self.capacity)", "need = amount"),
    Mutant("bucket_settle_sign", SCHEDULER, "self.level - (actual - estimated)",
           "self.level - (estimated - actual)"),
    Mutant("bucket_drain_zero", SCHEDULER, "self.level = min(self.level, 0.0)", "self.level = 0.0"),
    Mutant("sched_backoff_exp", SCHEDULER, "2 ** (m.strikes - 1)", "2 ** m.strikes"),
    Mutant("sched_no_cap_pause", SCHEDULER, "min(retry_after, self.max_pause)", "retry_after"),
    Mutant("sched_pause_shortened", SCHEDULER, "max(m.paused_until, now + wait)", "now + wait"),
    Mutant("sched_no_drain", SCHEDULER, "bucket.drain(now)", "pass"),
    Mutant("sched_no_share_floor", SCHEDULER, "max(MIN_RATE_SHARE, bucket.share * SLOWDOWN)",
           "bucket.share * SLOWDOWN"),
    Mutant("sched_no_share_ceiling", SCHEDULER, "min(1.0, bucket.share + RECOVERY)",
           "bucket.share + RECOVERY"),
    Mutant("sched_strikes_kept", SCHEDULER, "m.strikes = 0\n", "pass\n"),
    Mutant("sched_settle_swapped", SCHEDULER, "m.input.settle(est_in, real_in)",
           "m.input.settle(est_out, real_out)"),
    # panel/api/client.py: text_of, retry_after, usage_of, validate_reply
    Mutant("text_first_block", REPLIES, "    parts = []\n    for block in content:",
           "    parts = []\n    for block in content[:1]:"),
    Mutant("text_join_space", REPLIES, 'return "".join(parts)', 'return " ".join(parts)'),
    Mutant("text_any_type", REPLIES, 'if kind == "text":', 'if kind != "thinking":'),
    Mutant("retry_order", CLIENT, '(("retry-after-ms", 1000.0), ("retry-after", 1.0))',
           '(("retry-after", 1.0), ("retry-after-ms", 1000.0))'),
    Mutant("retry_ms_scale", CLIENT, '("retry-after-ms", 1000.0)', '("retry-after-ms", 1.0)'),
    Mutant("retry_bad_value_none", CLIENT, "        except ValueError:\n            continue",
           "        except ValueError:\n            return None"),
    Mutant("retry_zero_none", CLIENT, "if value >= 0:", "if value > 0:"),
    Mutant("retry_negative_kept", CLIENT, "if value >= 0:", "if True:"),
    Mutant("usage_none_check", REPLIES, "    if raw_usage is None:\n        return Usage()\n", ""),
    Mutant("usage_no_or_zero", REPLIES, 'get("cache_read_input_tokens") or 0',
           'get("cache_read_input_tokens")'),
    Mutant("usage_cache_swap", REPLIES, 'cache_creation_input_tokens=get("cache_creation_input_tokens")',
           'cache_creation_input_tokens=get("cache_read_input_tokens")'),
    Mutant("usage_output_from_input", REPLIES, 'output_tokens=get("output_tokens")',
           'output_tokens=get("input_tokens")'),
    Mutant("validate_no_refusal", REPLIES, 'if stop_reason == "refusal":', "if False:"),
    Mutant("validate_no_max_tokens", REPLIES, 'if stop_reason == "max_tokens":', "if False:"),
    Mutant("validate_where_always", REPLIES, "{where + ': ' if where else ''}", "{where + ': '}"),
    Mutant("validate_last_error", REPLIES, "first = exc.errors()[0]", "first = exc.errors()[-1]"),
    # panel/api/registry.py
    # the first occurrence is in `ensure` (the second, in `recover`, is not mutated)
    Mutant("registry_no_lock", REGISTRY, "async with self._locks[doc.sha256]:", "if True:"),
    # issue 21: the survivors of the second audit
    Mutant("dissent_counts_failed", DECISION, "dissent = [v.persona for v in ok if",
           "dissent = [v.persona for v in verdicts if"),
    Mutant("ensemble_failed_as_skip", ENSEMBLE, "majority(ship, len(ok) - ship,",
           "majority(ship, len(samples) - ship,"),
    Mutant("ensemble_seconds_sum", ENSEMBLE, '"seconds": max(s.seconds', '"seconds": sum(s.seconds'),
    Mutant("retry_cap_ge", RETRY, "hint > self.max_wait", "hint >= self.max_wait"),
    Mutant("balanced_over_two", METRICS, "round(sum(recalls) / len(recalls), 3)",
           "round(sum(recalls) / 2, 3)"),
    Mutant("diff_no_question", DIFF, r'r"(?<=[.!?])\s+"', r'r"(?<=[.!])\s+"'),
    Mutant("netguard_no_is_global", NETGUARD, "    if not ip.is_global:\n", "    if False:\n"),
    Mutant("md_no_pipe", ESCAPING, r"([\\`*_\[\]<>|~&])", r"([\\`*_\[\]<>~&])"),
    Mutant("md_no_amp", ESCAPING, r"([\\`*_\[\]<>|~&])", r"([\\`*_\[\]<>|~])"),
    Mutant("md_keeps_newlines", ESCAPING, 'text = " ".join(str(value).split())', "text = str(value)"),
    Mutant("md_no_paren_list", ESCAPING, r"\d+[.)]", r"\d+[.]"),
    Mutant("md_empty_cell", ESCAPING, 'return md_text(value) or " "', "return md_text(value)"),
    # issue 21: a claim that takes live leases lets a second worker review (pay for) a held tool
    Mutant("claim_live_lease", LEASES, "AND lease_until < ?)", "AND lease_until > ?)"),
]
# fmt: on


# Survivors that no test can kill: the mutated code behaves the same for every reachable input.
EQUIVALENT = {
    "majority_gt_ge": "inside `if ship != skip`, `ship > skip` and `ship >= skip` agree",
    "succeeded_not_failed": 'status is Literal["ok", "failed"]: `== "ok"` is `!= "failed"`',
    "slug_ascii_ge": "chr(127) is DEL, category Cc, never L/N/S: `> 127` and `>= 127` agree",
    "bucket_level_gt": "at level == need the wait formula gives (need - level) / rate = 0 anyway",
    "usage_none_check": "getattr(None, k, 0) is 0 for every field: the same empty Usage()",
}


def copy_repo(dest: Path) -> Path:
    shutil.copytree(ROOT, dest, ignore=IGNORE)
    return dest


def pytest_cmd(files: list[str], deselect: list[str]) -> list[str]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
    cmd += ["-m", "not e2e and not browser", "-rfE", *files]
    for node in deselect:
        cmd += ["--deselect", node]
    return cmd


def run_tests(copy: Path, files: list[str], deselect: list[str], timeout: float) -> tuple[str, str]:
    """('passed' | 'failed' | 'timeout', output) for `files` run against `copy`."""
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        proc = subprocess.run(
            pytest_cmd(files, deselect),
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return "timeout", ""
    return ("passed" if proc.returncode == 0 else "failed"), proc.stdout + proc.stderr


def baseline(copy: Path, files: list[str]) -> tuple[list[str], float]:
    """Node ids that fail on the unmutated copy (deselected, so a mutant is judged on the rest),
    and the seconds the clean run took (a mutant's timeout is a multiple of it)."""
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [c for c in pytest_cmd(files, []) if c != "-x"]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, text=True)
    took = time.monotonic() - t0
    return re.findall(r"^(?:FAILED|ERROR) (\S+)", proc.stdout, flags=re.M), took


def mutate(text: str, m: Mutant) -> str | None:
    at = -1
    for _ in range(m.nth + 1):
        at = text.find(m.old, at + 1)
        if at < 0:
            return None
    return text[:at] + m.new + text[at + len(m.old) :]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--without-new", action="store_true", help=f"leave out {' and '.join(NEW_TESTS)}"
    )
    parser.add_argument("--only", nargs="*", default=[], help="mutant names to run")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    mutants = [m for m in MUTANTS if not args.only or m.name in args.only]

    work = Path(tempfile.mkdtemp(prefix="panel-mutation-"))
    copies: queue.Queue[Path] = queue.Queue()
    try:
        first = copy_repo(work / "copy0")
        for i in range(1, args.jobs):
            copies.put(copy_repo(work / f"copy{i}"))
        copies.put(first)
        files_of = {}
        deselected: dict[str, list[str]] = {}
        timeout_of: dict[str, float] = {}
        for module in sorted({m.module for m in mutants}):
            files = [f for f in TESTS[module] if (first / f).exists()]
            if not args.without_new:
                files.extend(NEW_TESTS)
            files_of[module] = files
            deselected[module], took = baseline(first, files)
            timeout_of[module] = max(MIN_TIMEOUT_S, TIMEOUT_FACTOR * took)
            for node in deselected[module]:
                print(f"baseline failure, deselected for {module}: {node}")

        results: dict[str, tuple[str, float]] = {}
        lock = threading.Lock()

        def one(m: Mutant) -> None:
            copy = copies.get()
            try:
                path = copy / m.module
                original = path.read_text()
                mutated = mutate(original, m)
                if mutated is None:
                    outcome, took = "stale", 0.0
                else:
                    path.write_text(mutated)
                    t0 = time.monotonic()
                    try:
                        status, _ = run_tests(
                            copy, files_of[m.module], deselected[m.module], timeout_of[m.module]
                        )
                    finally:
                        path.write_text(original)
                    took = time.monotonic() - t0
                    outcome = "survived" if status == "passed" else f"killed ({status})"
                with lock:
                    results[m.name] = (outcome, took)
                    print(f"{m.name:32} {m.module:28} {outcome:18} {took:5.1f}s", flush=True)
            finally:
                copies.put(copy)

        threads = []
        pending: queue.Queue[Mutant] = queue.Queue()
        for m in mutants:
            pending.put(m)

        def worker() -> None:
            while True:
                try:
                    m = pending.get_nowait()
                except queue.Empty:
                    return
                one(m)

        for _ in range(args.jobs):
            t = threading.Thread(target=worker)
            t.start()
            threads.append(t)
        for t in threads:
            t.join()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print()
    suite = ("without " if args.without_new else "with ") + " and ".join(NEW_TESTS)
    print(f"Totals ({suite}):")
    for module in sorted({m.module for m in mutants}):
        counts = Counter(results[m.name][0].split()[0] for m in mutants if m.module == module)
        print(
            f"  {module:28} killed {counts['killed']:3}  survived {counts['survived']:3}"
            + (f"  stale {counts['stale']}" if counts["stale"] else "")
        )
    survivors = [m.name for m in mutants if results[m.name][0] == "survived"]
    print("Survivors:", "none" if not survivors else "")
    for name in survivors:
        print(f"  {name:32} {EQUIVALENT.get(name, 'NOT KNOWN EQUIVALENT: add a test')}")
    # A mutant whose text is gone tests nothing: the list must follow the code, or the run fails.
    stale = [m.name for m in mutants if results[m.name][0] == "stale"]
    unknown = [name for name in survivors if name not in EQUIVALENT]
    for name in stale:
        print(f"stale mutant (its code moved on; update or remove it): {name}")
    return 1 if stale or (unknown and not args.without_new) else 0


if __name__ == "__main__":
    sys.exit(main())
