"""Memory of a batch run stays flat with the number of rows.

Writes an N-row CSV (default 1,000,000), runs ``cxtext.batch.analyze_file``
over it and samples the process RSS after every chunk. By default the model
is replaced by a stub that returns a fixed analysis (so a million rows take
minutes, and what is measured is everything else: reading, flattening,
summary, writing); ``--real --rows 20000`` uses the real default model.

    python scripts/bench_memory.py [--rows 1000000] [--format csv|jsonl|parquet]

Last line: ``rss growth: N.NN× (peak A MiB at 100% vs B MiB at 10% of rows)``.
"""
from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

TEXTS = ["غذا سرد رسید و پیک بی‌ادب بود", "الطلب وصل متأخر والمندوب ما رد", "great app, fast delivery",
         "قیمت مناسب بود ولی بسته‌بندی پاره بود", "خدمة العملاء ممتازة", "پشتیبانی جواب نداد"]


def rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class StubAnalyzer:
    """Returns one real Analysis (computed once) for every text, with the row's id."""

    def __init__(self, template):
        self.t = template

    def pipe(self, items, batch_size=64):
        from dataclasses import replace

        for it in items:
            text = it.get("text")
            if not isinstance(text, str) or not text.strip():
                from cxtext.results import Analysis

                yield Analysis.failed(it.get("id"), text, "empty text: only whitespace")
            else:
                yield replace(self.t, id=it.get("id"), text=text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--format", default="csv", choices=["csv", "jsonl", "parquet"])
    ap.add_argument("--real", action="store_true", help="use the real default model (use fewer rows)")
    args = ap.parse_args()

    import cxtext
    from cxtext.batch import analyze_file

    tmp = Path(tempfile.mkdtemp(prefix="cxmem-"))
    src = tmp / "in.csv"
    with open(src, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "date", "text"])
        for i in range(args.rows):
            w.writerow([i, f"2026-01-{i % 28 + 1:02d}", "" if i % 97 == 0 else f"{TEXTS[i % len(TEXTS)]} {i}"])
    if args.real:
        analyzer = cxtext.load()
    else:
        real = cxtext.load()
        analyzer = StubAnalyzer(real("الطلب وصل متأخر والمندوب ما رد لكن الأكل ممتاز"))
    samples: list[tuple[int, float]] = []
    t0 = time.time()

    def progress(done, total):
        samples.append((done, rss_mib()))

    try:
        analyze_file(analyzer, str(src), str(tmp / f"out.{args.format}"), on_progress=progress, chunk_rows=2048)
    finally:
        import shutil

        dt = time.time() - t0
        shutil.rmtree(tmp, ignore_errors=True)
    at = {frac: next(m for d, m in samples if d >= frac * args.rows) for frac in (0.1, 0.5, 1.0)}
    peak = max(m for _, m in samples)
    print(f"{args.rows:,} rows in {dt:.0f} s ({args.rows / dt:,.0f} rows/s); RSS at 10%: {at[0.1]:.0f} MiB, "
          f"50%: {at[0.5]:.0f} MiB, 100%: {at[1.0]:.0f} MiB; ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"rss growth: {peak / at[0.1]:.2f}× (peak {peak:.0f} MiB at 100% vs {at[0.1]:.0f} MiB at 10% of rows)")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
