"""The pydantic-ai peer of `cargo xtask bench --peer` (see docs/benchmarks.md).

The same workload as llm-do's harness (benches/src/workload.rs): one agent run that makes two
model requests -- the model calls the tool `shout(text)`, the tool runs, the model answers --
as text or as a 3-field structure. Each subcommand prints one JSON object whose keys match the
Rust harness's, so that the suite can put both side by side:

    python peer_bench.py inprocess --runs 2000 --repeats 5 --warmup 200
    python peer_bench.py loopback --base-url http://127.0.0.1:PORT/v1 --runs 500 --repeats 3
    python peer_bench.py concurrency --base-url URL --latency-ms 50 --concurrency 200 --runs 1000
    python peer_bench.py scale --concurrency 10000 --delay-ms 1000

Benches 2-3 talk to the same `llm-do-testkit serve` binary as llm-do, with pydantic-ai's
OpenAI provider (chat completions; structured output as `NativeOutput`, i.e.
`response_format: json_schema`, as llm-do sends it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import platform
import resource
import statistics
import sys
import time
from importlib.metadata import version

import httpx2
from pydantic import BaseModel
from pydantic_ai import Agent, NativeOutput
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

TEXT = "hello world"


class Shouted(BaseModel):
    """The structured answer: three fields."""

    original: str
    shouted: str
    length: int


async def shout(text: str) -> str:
    """Upper-cases text.

    Args:
        text: the text to shout
    """
    return text.upper()


def tool_result(messages: list[ModelMessage]) -> str | None:
    """The content of the last tool return in the conversation, if any."""
    for message in reversed(messages):
        for part in reversed(message.parts):
            if isinstance(part, ToolReturnPart):
                return str(part.content)
    return None


def function_model(delay: float = 0.0) -> FunctionModel:
    """The model's side of the workload, like llm-do's FnModel."""

    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        shouted = tool_result(messages)
        if shouted is None:
            return ModelResponse(parts=[ToolCallPart("shout", {"text": TEXT})])
        if info.output_tools:
            # Structured output through pydantic-ai's default: the output tool.
            value = {"original": TEXT, "shouted": shouted, "length": len(shouted)}
            return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, value)])
        return ModelResponse(parts=[TextPart(f"The tool said: {shouted}")])

    async def function(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        # Async, like the tool: pydantic-ai runs sync functions in a thread pool.
        if delay > 0:
            await asyncio.sleep(delay)
        return answer(messages, info)

    return FunctionModel(function)


def agents(model, native: bool) -> dict[str, Agent]:
    """The two variants of the workload on `model`."""
    structured = NativeOutput(Shouted) if native else Shouted
    text = Agent(model, instructions="Shout the text with the tool.", tools=[shout])
    struct = Agent(model, output_type=structured, instructions="Shout the text with the tool.", tools=[shout])
    return {"text": text, "structured": struct}


async def run_once(agent: Agent, check: bool = False) -> int:
    """One run; with `check`, fails unless the answer carries the shouted text (the test
    server's default answers are schema examples, so over HTTP only the shape is checked)."""
    result = await agent.run(f"Shout this: {TEXT}")
    output = result.output
    size = output.length if isinstance(output, Shouted) else len(output)
    if check and size <= 0:
        raise RuntimeError(f"empty answer: {output!r}")
    return size


def peak_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    # Nearest rank, as the Rust harness computes it.
    ordered = sorted(values)
    rank = math.ceil(p / 100 * len(ordered))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


async def timed(run, runs: int, repeats: int, warmup: int) -> list[float]:
    """µs per run for `repeats` repeats of `runs` sequential runs, after `warmup` runs."""
    per_run = []
    for repeat in range(repeats + 1):
        n = max(warmup, 1) if repeat == 0 else runs
        started = time.perf_counter()
        for _ in range(n):
            await run()
        if repeat > 0:
            per_run.append((time.perf_counter() - started) * 1e6 / n)
    return per_run


def versions() -> dict:
    return {
        "python": platform.python_version(),
        "pydantic_ai_slim": version("pydantic-ai-slim"),
        "pydantic": version("pydantic"),
        "openai": version("openai"),
        "httpx2": version("httpx2"),
    }


async def inprocess(args) -> dict:
    results = []
    for variant in ("text", "structured"):
        agent = agents(function_model(), native=False)[variant]
        per_run = await timed(lambda: run_once(agent, check=True), args.runs, args.repeats, args.warmup)
        results.append({
            "variant": variant,
            "model": "fn_model",
            "us_per_run": statistics.median(per_run),
            "us_per_run_repeats": per_run,
        })
    return {
        "bench": "inprocess",
        "runs": args.runs,
        "repeats": args.repeats,
        "warmup": args.warmup,
        "results": results,
        "versions": versions(),
    }


def http_model(base_url: str, connections: int = 100) -> OpenAIChatModel:
    limits = httpx2.Limits(max_connections=connections, max_keepalive_connections=connections)
    client = httpx2.AsyncClient(limits=limits, timeout=60)
    provider = OpenAIProvider(base_url=base_url, api_key="sk-bench", http_client=client)
    return OpenAIChatModel("llm-do-test", provider=provider)


async def loopback(args) -> dict:
    results = []
    for variant in ("text", "structured"):
        agent = agents(http_model(args.base_url), native=True)[variant]
        per_run = await timed(lambda: run_once(agent), args.runs, args.repeats, args.warmup)
        us = statistics.median(per_run)
        results.append({
            "variant": variant,
            "pydantic_ai": {"us_per_run": us, "runs_per_s": 1e6 / us, "us_per_run_repeats": per_run},
        })
    return {"bench": "loopback", "runs": args.runs, "repeats": args.repeats, "results": results}


async def round_(agent: Agent, concurrency: int, runs: int) -> tuple[list[float], int]:
    counter = iter(range(runs))
    latencies: list[float] = []
    failed = 0

    async def worker():
        nonlocal failed
        for _ in counter:
            started = time.perf_counter()
            try:
                await run_once(agent)
                latencies.append((time.perf_counter() - started) * 1e3)
            except Exception as e:  # counted, reported once
                if failed == 0:
                    print(f"peer: a run failed: {e!r}", file=sys.stderr)
                failed += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, failed


async def concurrency(args) -> dict:
    agent = agents(http_model(args.base_url, connections=max(args.concurrency, 100)), native=True)[args.variant]
    await round_(agent, args.concurrency, args.concurrency)  # warm-up: open the connections
    before = rss_kib()
    cpu_before = time.process_time()
    started = time.perf_counter()
    latencies, failed = await round_(agent, args.concurrency, args.runs)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    ideal = 2 * args.latency_ms / 1e3 * args.runs / args.concurrency
    return {
        "bench": "concurrency",
        "variant": args.variant,
        "concurrency": args.concurrency,
        "runs": args.runs,
        "latency_ms": args.latency_ms,
        "completed": len(latencies),
        "failed": failed,
        "wall_s": wall,
        "ideal_s": ideal,
        "over_ideal_pct": (wall / ideal - 1) * 100,
        "runs_per_s": args.runs / wall,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "rss_before_kib": before,
        "peak_rss_kib": peak_rss_kib(),
        "client_cpu_us_per_run": cpu * 1e6 / args.runs,
    }


async def scale(args) -> dict:
    delay = args.delay_ms / 1e3
    agent = agents(function_model(delay), native=False)[args.variant]
    await run_once(agent)
    before = rss_kib()
    started = time.perf_counter()

    async def one():
        t = time.perf_counter()
        await run_once(agent)
        return (time.perf_counter() - t) * 1e3

    tasks = [asyncio.create_task(one()) for _ in range(args.concurrency)]
    await asyncio.sleep(delay / 2)
    in_flight = rss_kib()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    wall = time.perf_counter() - started
    latencies = [o for o in outcomes if isinstance(o, float)]
    per_worker = lambda kib: max(kib - before, 0) * 1024 / args.concurrency  # noqa: E731
    peak = peak_rss_kib()
    return {
        "bench": "scale",
        "variant": args.variant,
        "concurrency": args.concurrency,
        "delay_ms": args.delay_ms,
        "completed": len(latencies),
        "failed": args.concurrency - len(latencies),
        "wall_s": wall,
        "ideal_s": 2 * delay,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "rss_before_kib": before,
        "rss_in_flight_kib": in_flight,
        "peak_rss_kib": peak,
        "bytes_per_worker_in_flight": per_worker(in_flight),
        "bytes_per_worker_peak": per_worker(peak),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="bench", required=True)
    p = sub.add_parser("inprocess")
    p.add_argument("--runs", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--warmup", type=int, default=200)
    p = sub.add_parser("loopback")
    p.add_argument("--base-url", required=True)
    p.add_argument("--runs", type=int, default=500)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--warmup", type=int, default=20)
    p = sub.add_parser("concurrency")
    p.add_argument("--base-url", required=True)
    p.add_argument("--latency-ms", type=int, default=50)
    p.add_argument("--concurrency", type=int, default=200)
    p.add_argument("--runs", type=int, default=1000)
    p.add_argument("--variant", choices=["text", "structured"], default="text")
    p = sub.add_parser("scale")
    p.add_argument("--concurrency", type=int, default=10_000)
    p.add_argument("--delay-ms", type=int, default=1000)
    p.add_argument("--variant", choices=["text", "structured"], default="text")
    args = parser.parse_args()
    bench = {"inprocess": inprocess, "loopback": loopback, "concurrency": concurrency, "scale": scale}
    print(json.dumps(asyncio.run(bench[args.bench](args))))


if __name__ == "__main__":
    main()
