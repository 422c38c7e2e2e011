"""Throughput and latency of the REST service under concurrency, against the
same requests sent one at a time, in one run on this machine.

Starts a real ``uvicorn api.main:app`` on 127.0.0.1 (a free port; only
loopback traffic), with the real default model unless ``--models`` says
otherwise, waits for ``/readyz``, then sends ``POST /v1/analyze`` requests of
short reviews: first sequentially (one client, one request at a time), then
from N concurrent clients (httpx async). Every phase is bounded by a request
count and a time limit. The server is stopped at the end, whatever happens.

    python scripts/bench_api.py [--models DIR] [--clients 8,32] [--requests 640] [--seq-requests 96]

The last line is ``speedup: N.NN× at 32 clients (A req/s vs sequential B req/s)``.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import short_reviews  # noqa: E402 - the same short reviews as the pipeline benchmark


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


class Result:
    def __init__(self, name: str, clients: int, latencies: list[float], wall: float, failures: int):
        self.name, self.clients, self.lat, self.wall, self.failures = name, clients, latencies, wall, failures
        self.mean_batch = float("nan")

    @property
    def rps(self) -> float:
        return len(self.lat) / self.wall if self.wall > 0 else 0.0

    def row(self) -> str:
        ms = [x * 1000 for x in self.lat] or [0.0]
        return (f"{self.name:<12} {self.clients:>7} {len(self.lat):>8} {self.rps:>8.1f} {pct(ms, 50):>8.1f} "
                f"{pct(ms, 95):>8.1f} {pct(ms, 99):>8.1f} {self.mean_batch:>10.1f} {self.failures:>6}")


async def run_phase(base: str, texts: list[str], clients: int, total: int, time_limit: float, name: str,
                    headers: dict[str, str]) -> Result:
    """``clients`` workers share ``total`` requests; each sends its next one when
    the previous answer is in. Stops at ``total`` or ``time_limit`` seconds."""
    lat: list[float] = []
    failures = 0
    nxt = 0
    deadline = time.perf_counter() + time_limit
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def worker(c: httpx.AsyncClient) -> None:
        nonlocal nxt, failures
        while nxt < total and time.perf_counter() < deadline:
            i = nxt
            nxt += 1
            t0 = time.perf_counter()
            try:
                r = await c.post("/v1/analyze", json={"id": str(i), "text": texts[i % len(texts)]})
                ok = r.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                lat.append(time.perf_counter() - t0)
            else:
                failures += 1

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120, headers=headers) as c:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(c) for _ in range(clients)))
        wall = time.perf_counter() - t0
    return Result(name, clients, lat, wall, failures)


def start_server(args: argparse.Namespace, port: int, data_dir: str, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, "CXTEXT_API_DATA_DIR": data_dir, "CXTEXT_API_KEY": "",
           "CXTEXT_API_BATCH_MAX_SIZE": str(args.max_batch), "CXTEXT_API_BATCH_MAX_WAIT_MS": str(args.max_wait_ms)}
    if args.models:
        env["CXTEXT_MODELS"] = str(Path(args.models).resolve())
    if args.torch_threads:
        env["CXTEXT_API_TORCH_THREADS"] = str(args.torch_threads)
    if args.model_workers:
        env["CXTEXT_API_MODEL_WORKERS"] = str(args.model_workers)
    cmd = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port),
           "--log-level", "warning", "--no-access-log"]
    return subprocess.Popen(cmd, cwd=str(ROOT), env=env, stdout=open(log_path, "wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def wait_ready(base: str, proc: subprocess.Popen, timeout: float, log_path: Path) -> dict:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base, timeout=5) as c:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                sys.exit(f"the server exited ({proc.returncode}):\n{log_path.read_text(errors='replace')[-3000:]}")
            try:
                r = c.get("/readyz")
                if r.status_code == 200:
                    return c.get("/v1/models").json()
                if "failed" in r.text:
                    sys.exit(f"the server could not load the models: {r.json()['error']['message']}")
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    sys.exit(f"the server was not ready after {timeout:.0f} s")


async def measured(base: str, texts: list[str], clients: int, total: int, time_limit: float, name: str,
                   headers: dict[str, str]) -> Result:
    """A phase, with the server's mean batch size over it (from /v1/stats)."""
    async with httpx.AsyncClient(base_url=base, timeout=10, headers=headers) as c:
        before = (await c.get("/v1/stats")).json()
        r = await run_phase(base, texts, clients, total, time_limit, name, headers)
        after = (await c.get("/v1/stats")).json()
    passes = after["model_passes"] - before["model_passes"]
    r.mean_batch = (after["texts"] - before["texts"]) / passes if passes else float("nan")
    return r


async def bench(args: argparse.Namespace, base: str) -> list[Result]:
    texts = short_reviews(max(args.requests, args.seq_requests) + 64)
    headers: dict[str, str] = {}
    # warm-up: both paths, not measured
    await run_phase(base, texts[-64:], 1, 8, 60, "warm-up", headers)
    await run_phase(base, texts[-64:], max(args.clients), 2 * max(args.clients), 60, "warm-up", headers)
    results = [await measured(base, texts, 1, args.seq_requests, args.time_limit, "sequential", headers)]
    for n in args.clients:
        results.append(await measured(base, texts, n, args.requests, args.time_limit, "concurrent", headers))
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=None, help="heads folder (default: the shipped models/)")
    ap.add_argument("--clients", default="8,32", help="concurrent client counts, comma-separated (32 is reported last)")
    ap.add_argument("--requests", type=int, default=640, help="requests per concurrent phase (upper bound)")
    ap.add_argument("--seq-requests", type=int, default=96, help="requests in the sequential phase (upper bound)")
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per phase (upper bound)")
    ap.add_argument("--startup-timeout", type=float, default=600.0, help="seconds to wait for /readyz")
    ap.add_argument("--max-batch", type=int, default=64, help="CXTEXT_API_BATCH_MAX_SIZE for the server")
    ap.add_argument("--max-wait-ms", type=float, default=5.0, help="CXTEXT_API_BATCH_MAX_WAIT_MS for the server")
    ap.add_argument("--torch-threads", type=int, default=None,
                    help="CXTEXT_API_TORCH_THREADS for the server (default: the service's, cores / model workers)")
    ap.add_argument("--model-workers", type=int, default=None,
                    help="CXTEXT_API_MODEL_WORKERS for the server (default: the service's, 2 on 2+ cores)")
    args = ap.parse_args()
    args.clients = sorted({int(x) for x in args.clients.split(",") if x.strip()} | {32})

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="cxtext-bench-") as tmp:
        log_path = Path(tmp) / "server.log"
        proc = start_server(args, port, str(Path(tmp) / "data"), log_path)
        try:
            t0 = time.perf_counter()
            info = wait_ready(base, proc, args.startup_timeout, log_path)
            print(f"server: {info['model']} on {info['base']['device']}; ready in {time.perf_counter() - t0:.1f} s; "
                  f"{os.cpu_count()} CPUs, {info['limits'].get('model_workers')} model workers × torch threads "
                  f"{info['limits'].get('torch_threads')}; "
                  f"batch ≤ {args.max_batch}, wait ≤ {args.max_wait_ms} ms")
            results = asyncio.run(bench(args, base))
        finally:
            stop_server(proc)
    print(f"{'phase':<12} {'clients':>7} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'mean batch':>10} {'failed':>6}")
    for r in results:
        print(r.row())
    seq = results[0]
    at32 = next(r for r in results if r.clients == 32)
    if seq.failures or at32.failures:
        print(f"warning: {seq.failures + at32.failures} requests failed", file=sys.stderr)
    print(f"speedup: {at32.rps / seq.rps:.2f}× at 32 clients ({at32.rps:.1f} req/s vs sequential {seq.rps:.1f} req/s)")


if __name__ == "__main__":
    main()
