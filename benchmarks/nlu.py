"""NLU speed and memory: training time, parse latency, batch throughput, resident memory.

    .venv/bin/python benchmarks/nlu.py              # 2,000 single parses, 20,000 in batches
    .venv/bin/python benchmarks/nlu.py --scale 0.1  # a quick run

Targets on a 2-core machine (README, "Understanding debtors"): training <= 30 s,
single-message p50 <= 2 ms, resident memory <= 300 MB.  Prints figures; asserts
nothing.  The messages are the development set's, cycled.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full run")
    args = parser.parse_args()
    singles = max(50, int(2000 * args.scale))
    batched = max(500, int(20000 * args.scale))

    base = rss_mb()
    # A private cache folder so that training really happens.
    os.environ["RELANCE_CACHE_DIR"] = tempfile.mkdtemp(prefix="relance-nlu-bench-")
    from nlu.pipeline import Parser
    from nlu.training import load_dir

    started = time.perf_counter()
    Parser.load()
    trained = time.perf_counter() - started

    started = time.perf_counter()
    parser = Parser.load()  # from the disk cache, as a restarted process would
    loaded = time.perf_counter() - started
    after_load = rss_mb()

    texts = [e.text for e in load_dir(ROOT / "tests" / "data" / "nlu" / "dev")]
    reference = date(2026, 3, 10)
    for text in texts[:50]:  # warm up lazy imports and caches
        parser.parse(text, reference)

    latencies = []
    for i in range(singles):
        text = texts[i % len(texts)]
        started = time.perf_counter()
        parser.parse(text, reference)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]

    chunk = 256
    messages = [texts[i % len(texts)] for i in range(batched)]
    started = time.perf_counter()
    for i in range(0, len(messages), chunk):
        part = messages[i : i + chunk]
        parser.parse_many(part, [reference] * len(part))
    throughput = len(messages) / (time.perf_counter() - started)
    peak = rss_mb()

    print(f"training (18 intents x 4 languages): {trained:6.2f} s   (target <= 30 s)")
    print(f"loading the cached model:            {loaded:6.2f} s")
    print(f"single parse p50:                    {p50:6.2f} ms  (target <= 2 ms)")
    print(f"single parse p99:                    {p99:6.2f} ms  ({singles} messages)")
    print(f"batch throughput:                    {throughput:8.0f} messages/s ({batched} messages)")
    print(
        f"resident memory: start {base:.0f} MB, model loaded {after_load:.0f} MB, "
        f"peak {peak:.0f} MB   (target <= 300 MB)"
    )


if __name__ == "__main__":
    main()
