"""The HTTP API under load, on 127.0.0.1 only: starts ``honyaku serve`` on a run, sends a bounded mix of good,
malformed and oversize requests from concurrent clients, then stops the server with SIGTERM while requests
are in flight. Writes status counts, latency percentiles and throughput into bench/RESULTS.md.

    python bench/load_test.py -m runs/seed_keras [--clients 32] [--requests 50] [--data-dir DIR]

Every request must get an answer: 2xx for good ones, a 4xx with a message for bad ones, 503 only when the
queue is full, never another 5xx nor a dropped connection. The clients run on the same machine as the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from results_file import RESULTS, run_main, write_section
from serving import start_server

from honyaku.core.config_files import load_config
from honyaku.core.errors import HonyakuError
from honyaku.data.corpus import read_split

MAX_CHARS, MAX_TEXTS = 1000, 64  # honyaku serve's defaults

# (kind, share of requests, expected status class)
MIX = [
    ("one text", 0.55, 200),
    ("2-16 texts", 0.15, 200),
    ("n-best (beam 4, 3 best)", 0.10, 200),
    ("malformed JSON", 0.05, 422),
    ("bad option", 0.05, 422),
    ("text over the length limit", 0.05, 413),
    ("too many texts", 0.05, 413),
]


@dataclass
class Outcome:
    kind: str
    status: int  # 0: no HTTP answer (connection error)
    seconds: float
    texts: int
    detail: str = ""


@dataclass
class Tally:
    outcomes: list[Outcome] = field(default_factory=list)

    def unexpected(self) -> list[Outcome]:
        expected = {kind: status for kind, _, status in MIX}
        return [o for o in self.outcomes if o.status != expected[o.kind] and o.status != 503]


def request_for(kind: str, rng: random.Random, sources: list[str]) -> tuple[bytes, int]:
    """The body of a request of ``kind`` and the number of texts it asks to translate."""
    if kind == "one text":
        return json.dumps({"text": rng.choice(sources)}).encode(), 1
    if kind == "2-16 texts":
        texts = rng.sample(sources, rng.randint(2, 16))
        return json.dumps({"texts": texts}).encode(), len(texts)
    if kind == "n-best (beam 4, 3 best)":
        return json.dumps({"text": rng.choice(sources), "beam_size": 4, "n_best": 3}).encode(), 1
    if kind == "malformed JSON":
        return json.dumps({"text": rng.choice(sources)}).encode()[:-3], 0
    if kind == "bad option":
        return json.dumps(rng.choice([{"text": "hi", "beam_size": 0}, {"text": "hi", "colour": 1}, {}])).encode(), 0
    if kind == "text over the length limit":
        return json.dumps({"text": "a " * MAX_CHARS}).encode(), 0
    return json.dumps({"texts": ["hello ."] * (MAX_TEXTS + 1)}).encode(), 0


async def client(number: int, requests: int, sources: list[str], http: httpx.AsyncClient, tally: Tally) -> None:
    rng = random.Random(number)
    kinds, weights = [k for k, _, _ in MIX], [w for _, w, _ in MIX]
    for _ in range(requests):
        kind = rng.choices(kinds, weights)[0]
        body, texts = request_for(kind, rng, sources)
        started = time.perf_counter()
        try:
            response = await http.post("/translate", content=body, headers={"content-type": "application/json"})
            status, detail = response.status_code, "" if response.is_success else str(response.json().get("detail"))
        except httpx.HTTPError as error:
            status, detail = 0, f"{type(error).__name__}: {error}"
        tally.outcomes.append(Outcome(kind, status, time.perf_counter() - started, texts, detail))


async def load(url: str, clients: int, requests: int, sources: list[str]) -> tuple[Tally, float]:
    tally = Tally()
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(n, requests, sources, http, tally) for n in range(clients)))
    return tally, time.perf_counter() - started


async def shutdown_in_flight(server: subprocess.Popen, url: str, sources: list[str], in_flight: int) -> list[int]:
    """Statuses of ``in_flight`` requests taken by the server just before SIGTERM: graceful shutdown answers them
    all. SIGTERM follows as soon as /health counts all their texts received, not after a fixed delay, by which a
    busy machine may not have sent them yet (a request not yet taken is refused, rightly)."""
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        received = await texts_received(http)
        sent = [
            asyncio.create_task(http.post("/translate", json={"texts": sources[i * 8 : i * 8 + 8], "beam_size": 5}))
            for i in range(in_flight)
        ]
        deadline = time.monotonic() + 60
        while await texts_received(http) < received + 8 * in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        server.send_signal(signal.SIGTERM)
        answers = await asyncio.gather(*sent, return_exceptions=True)
    return [a.status_code if isinstance(a, httpx.Response) else 0 for a in answers]


async def texts_received(http: httpx.AsyncClient) -> int:
    return sum(direction["received"] for direction in (await http.get("/health")).json()["texts"].values())


def _exit(code: int) -> str:
    return f"signal {signal.Signals(-code).name}" if code < 0 else f"status {code}"


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-m", "--model", required=True, metavar="RUN")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=50, help="per client")
    parser.add_argument("--data-dir", help="corpus directory (the dev sources are the texts sent)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    data = load_config(Path(args.model) / "config.yaml").data
    sources = read_split(data, "dev", args.data_dir)[0]
    server, url = start_server(["-m", args.model])
    try:
        tally, seconds = asyncio.run(load(url, args.clients, args.requests, sources))
        statuses = asyncio.run(shutdown_in_flight(server, url, sources, in_flight=16))
        exit_code = server.wait(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
    good = [o for o in tally.outcomes if o.status == 200]
    latencies = sorted(o.seconds * 1000 for o in good)
    by_status: dict[int, int] = {}
    for outcome in tally.outcomes:
        by_status[outcome.status] = by_status.get(outcome.status, 0) + 1
    unexpected, errors_5xx = tally.unexpected(), [o for o in tally.outcomes if o.status >= 500 and o.status != 503]
    messageless = [o for o in tally.outcomes if 400 <= o.status < 500 and not o.detail]
    row = (
        f"| {Path(args.model).name} | {args.clients} × {args.requests} | "
        + ", ".join(f"{status or 'no answer'}: {count}" for status, count in sorted(by_status.items()))
        + f" | {len(errors_5xx)} | {len(unexpected)} | {percentile(latencies, 50):,.0f} ms | "
        f"{percentile(latencies, 99):,.0f} ms | {len(tally.outcomes) / seconds:,.1f} req/s, "
        f"{sum(o.texts for o in good) / seconds:,.1f} texts/s | "
        f"{statuses.count(200)}/{len(statuses)} answered 200, then the server exited ({_exit(exit_code)}) |"
    )
    print(row)
    header = [
        "## Server under load (bench/load_test.py)",
        "",
        "`honyaku serve` with its defaults (CPU, dynamic batching 5 ms, limits 1000 characters and 64 texts),",
        "clients and server on this 2-core machine over 127.0.0.1. Each client sends its requests one after another:",
        "55% one dev sentence, 15% 2–16 sentences, 10% n-best (beam 4, 3 best), 5% each malformed JSON, a bad",
        "option, a text over the length limit, and too many texts. Latency and throughput count answered good",
        "requests over the whole run. Then 16 requests of 8 sentences (beam 5) are sent and SIGTERM follows once",
        "the server has taken them all: graceful shutdown must answer them all.",
        "",
        "| model | clients × requests | answers by status | other 5xx | unexpected | p50 latency | p99 latency "
        "| throughput | SIGTERM with 16 in flight |",
        "|---|---|---|---:|---:|---:|---:|---|---|",
    ]
    write_section(args.results, "load", header, [row])
    problems = [f"{o.kind}: {o.status} {o.detail}" for o in unexpected] + [
        f"{o.kind}: {o.status} without a message" for o in messageless
    ]
    # uvicorn ends by re-raising the signal once its shutdown is complete: -SIGTERM is a clean end
    if statuses.count(200) != len(statuses) or exit_code not in (0, -signal.SIGTERM):
        problems.append(f"shutdown: statuses {statuses}, exit code {exit_code}")
    if problems:
        raise HonyakuError(f"{len(problems)} problems, e.g. {problems[:3]}")


if __name__ == "__main__":
    run_main(main, "load_test.py")
