"""Bounded load generator: N realistic applications, C at a time, against a real stack on loopback.

    .venv/bin/python benchmarks/load.py --n 60 --concurrency 8
    .venv/bin/python benchmarks/load.py --n 60 --concurrency 8 --configs default,no-sticky,acts-8,polls-10

Starts Temporal dev server, NLP service, worker and API itself (the `creditflow up` commands, free
ports, a temporary var/), submits the demo "clear approval" case (ID, pay stub, bank statement and
one note; plain-text uploads, so the API pre-classifies them) through the HTTP API, and measures:

- submit-to-decision latency: from sending POST /submit until the workflow's result is available
  (`handle.result()`, a long poll; the workflow completes right after persisting the decision and
  starting the credit-line child, so this is slightly pessimistic for what the applicant sees);
- throughput: automatic decisions per second over the measured window (first create to last decision),
  and the same for the decision part only (first submit to last decision);
- worker / NLP / API process CPU seconds and peak RSS (psutil, or /proc when psutil is absent);
- where the time goes, from each workflow's history timestamps: per application, the time between the
  `submit` signal and completion split into activity execution by type, activity queue wait
  (scheduled -> started), workflow-task time (scheduled -> completed) and the rest.

The load generator shares the two cores with the stack, so it is kept cheap: its HTTP client is aiohttp
(about half the CPU per application of httpx, which it used before 2026-12-06: benchmarks/RESULTS.md
item 25); its own CPU is reported separately ("load_generator") and is not the stack's.

Each --configs entry restarts only the worker with other CREDITFLOW_WORKER_* settings (see
src/creditflow/config.py), so configurations are compared on the same server, NLP and API.
Prints one JSON document; `--markdown FILE` also writes the RESULTS.md section to FILE. Never part of the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CONFIGS: dict[str, dict[str, str]] = {
    "default": {},
    # what docker-compose.yml runs in production: workflows outside the Python sandbox
    "no-sandbox": {"CREDITFLOW_WORKER_WORKFLOW_SANDBOX": "false"},
    "no-sticky": {"CREDITFLOW_WORKER_MAX_CACHED_WORKFLOWS": "0"},
    "acts-8": {"CREDITFLOW_WORKER_MAX_CONCURRENT_ACTIVITIES": "8"},
    "acts-64": {"CREDITFLOW_WORKER_MAX_CONCURRENT_ACTIVITIES": "64"},
    "polls-10": {"CREDITFLOW_WORKER_MAX_CONCURRENT_WORKFLOW_TASK_POLLS": "10",
                 "CREDITFLOW_WORKER_MAX_CONCURRENT_ACTIVITY_TASK_POLLS": "10"},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    k = (len(v) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


class ProcStats:
    """CPU seconds and peak RSS of a process and its children, sampled in the background."""

    def __init__(self, pid: int, children: bool = True) -> None:
        self.pid = pid
        self.children = children  # False for the generator itself, whose children are the stack
        self.peak_rss = 0
        self.cpu0 = self._cpu()
        self.cpu_trace: list[tuple[float, float]] = []  # (perf_counter, CPU seconds), one per sample

    def _procs(self) -> list[Any]:
        try:
            import psutil

            p = psutil.Process(self.pid)
            return [p, *p.children(recursive=True)] if self.children else [p]
        except Exception:
            return []

    def _cpu(self) -> float:
        procs = self._procs()
        if procs:
            total = 0.0
            for p in procs:
                try:
                    t = p.cpu_times()
                    total += t.user + t.system
                except Exception:
                    pass
            return total
        try:  # /proc fallback: utime + stime of the process itself
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            return 0.0

    def sample(self) -> None:
        rss = 0
        procs = self._procs()
        if procs:
            for p in procs:
                try:
                    rss += p.memory_info().rss
                except Exception:
                    pass
        else:
            try:
                for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        rss = int(line.split()[1]) * 1024
            except OSError:
                pass
        self.peak_rss = max(self.peak_rss, rss)
        self.cpu_trace.append((time.perf_counter(), self._cpu()))

    def cpu_between(self, a: float, b: float) -> float:
        """CPU seconds used between perf_counter instants a and b (nearest samples, 0.25 s apart)."""
        def at(t: float) -> float:
            return min(self.cpu_trace, key=lambda s: abs(s[0] - t))[1]
        return at(b) - at(a) if self.cpu_trace else float("nan")

    def result(self) -> dict[str, float]:
        return {"cpu_s": round(self._cpu() - self.cpu0, 2), "peak_rss_mb": round(self.peak_rss / 2**20, 1)}


async def _sampler(stats: list[ProcStats], stop: asyncio.Event) -> None:
    while not stop.is_set():
        for s in stats:
            s.sample()
        try:
            await asyncio.wait_for(stop.wait(), 0.25)
        except asyncio.TimeoutError:
            pass


def breakdown(history: Any) -> dict[str, float]:
    """Seconds from the `submit` signal to completion, split by where the workflow waited."""
    events = list(history.events)
    ts = {e.event_id: e.event_time.ToDatetime().timestamp() for e in events}
    submit = next((e for e in events if e.HasField("workflow_execution_signaled_event_attributes")
                   and e.workflow_execution_signaled_event_attributes.signal_name == "submit"), None)
    done = next((e for e in events if e.HasField("workflow_execution_completed_event_attributes")), None)
    if submit is None or done is None:
        return {}
    t0, t1 = ts[submit.event_id], ts[done.event_id]
    out: dict[str, float] = defaultdict(float)
    sched_type: dict[int, str] = {}
    started_at: dict[int, float] = {}
    wft_sched: float | None = None
    la_from: float | None = None  # where the next local activity's time starts
    # Intervals of the critical path are approximated per kind; parallel document activities are
    # counted by their union (max end - min start per burst) to avoid double counting.
    act_intervals: dict[str, list[tuple[float, float]]] = defaultdict(list)
    wait_intervals: list[tuple[float, float]] = []
    wft_intervals: list[tuple[float, float]] = []
    for e in events:
        t = ts[e.event_id]
        if t < t0:
            continue
        if e.HasField("activity_task_scheduled_event_attributes"):
            sched_type[e.event_id] = e.activity_task_scheduled_event_attributes.activity_type.name
        elif e.HasField("activity_task_started_event_attributes"):
            sid = e.activity_task_started_event_attributes.scheduled_event_id
            if sid in ts:
                wait_intervals.append((ts[sid], t))
            started_at[sid] = t
        elif e.HasField("activity_task_completed_event_attributes"):
            sid = e.activity_task_completed_event_attributes.scheduled_event_id
            if sid in started_at:
                act_intervals[sched_type.get(sid, "?")].append((started_at[sid], t))
        elif (e.HasField("marker_recorded_event_attributes")
              and e.marker_recorded_event_attributes.marker_name == "core_local_activity"):
            # local activities run inside a workflow task: shown by type, already counted in workflow_tasks
            # (each one's time: from the previous one's completion, or the task's start, to its completion)
            data = json.loads(e.marker_recorded_event_attributes.details["data"].payloads[0].data)
            ended = data.get("complete_time") or {}
            if ended and la_from is not None:
                end = ended["seconds"] + ended.get("nanos", 0) / 1e9
                out[f"local_activity:{data['activity_type']}"] += max(0.0, end - la_from)
                la_from = end
        elif e.HasField("workflow_task_scheduled_event_attributes"):
            wft_sched = t
        elif e.HasField("workflow_task_started_event_attributes") and wft_sched is not None:
            la_from = t
            out["workflow_task_queue_wait"] += t - wft_sched
            out["workflow_task_count"] += 1
        elif e.HasField("workflow_task_completed_event_attributes") and wft_sched is not None:
            wft_intervals.append((wft_sched, t))
            sid = e.workflow_task_completed_event_attributes.started_event_id
            if sid in ts:
                out["workflow_task_execution"] += t - ts[sid]
            wft_sched = None

    def union(iv: list[tuple[float, float]]) -> float:
        total, end = 0.0, float("-inf")
        for a, b in sorted(iv):
            if b <= end:
                continue
            total += b - max(a, end)
            end = b
        return total

    accounted = []
    for name, iv in act_intervals.items():
        out[f"activity:{name}"] = union(iv)
        accounted += iv
    out["activity_queue_wait"] = union(wait_intervals)
    out["workflow_tasks"] = union(wft_intervals)
    out["total"] = t1 - t0
    out["other"] = max(0.0, out["total"] - union(accounted + wait_intervals + wft_intervals))
    return dict(out)


async def create_case(http: Any, headers: dict[str, str], case: dict[str, Any], key: str) -> str:
    """`creditflow.demo.create_case` over aiohttp (see the module docstring): create the application and
    upload its documents; `http` raises on any 4xx/5xx."""
    import aiohttp

    async with http.post("/v1/applications", json=case["body"], headers={**headers, "Idempotency-Key": key}) as r:
        app_id = (await r.json())["id"]
    for i, text in enumerate(case["documents"]):
        form = aiohttp.FormData()
        form.add_field("file", text.encode(), filename=f"doc{i}.txt", content_type="text/plain")
        async with http.post(f"/v1/applications/{app_id}/documents", data=form, headers=headers) as r:
            await r.read()
    return app_id


async def run_load(api: str, settings: Any, n: int, concurrency: int, tag: str,
                   watch: dict[str, ProcStats]) -> dict[str, Any]:
    import aiohttp
    from temporalio.client import Client

    from creditflow.demo import demo_cases, demo_tokens
    from creditflow.temporal_client import data_converter

    case = next(c for c in demo_cases() if c["label"] == "clear approval")
    token = demo_tokens(settings)["applicant"]
    h = {"Authorization": f"Bearer {token}"}
    client = await Client.connect(settings.temporal_address, data_converter=data_converter(settings))
    latencies: list[float] = []
    outcomes: dict[str, int] = defaultdict(int)
    ids: list[str] = []
    sem = asyncio.Semaphore(concurrency)
    first_submit: list[float] = []
    last_done: list[float] = []

    async with aiohttp.ClientSession(api, timeout=aiohttp.ClientTimeout(total=120), raise_for_status=True,
                                     connector=aiohttp.TCPConnector(limit=concurrency * 2)) as http:
        async def one(i: int) -> None:
            async with sem:
                app_id = await create_case(http, h, case, key=f"{tag}-{i}")
                t0 = time.perf_counter()
                first_submit.append(t0)
                async with http.post(f"/v1/applications/{app_id}/submit", headers=h) as r:
                    await r.read()
                result = await client.get_workflow_handle(f"application-{app_id}").result()
                t1 = time.perf_counter()
                last_done.append(t1)
                stage = result.get("stage") if isinstance(result, dict) else getattr(result, "stage", "?")
                outcomes[str(stage)] += 1
                if stage == "approved":
                    latencies.append(t1 - t0)
                ids.append(app_id)

        stop = asyncio.Event()
        sampler = asyncio.create_task(_sampler(list(watch.values()), stop))
        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        wall = time.perf_counter() - start
        stop.set()
        await sampler

    parts: dict[str, list[float]] = defaultdict(list)
    for app_id in ids:
        hist = await client.get_workflow_handle(f"application-{app_id}").fetch_history()
        for k, v in breakdown(hist).items():
            parts[k].append(v)
    decide_window = max(last_done) - min(first_submit) if last_done else float("nan")
    windows = windowed_rates(last_done, start)
    # CPU per decision in the same windows, per process: shows which process grows as the run goes on
    windows["cpu_ms_per_decision"] = {
        name: [round(1000 * st.cpu_between(start + a, start + a + windows["width_s"]) / (r * windows["width_s"]), 1)
               if r else None for a, r in zip(windows["starts_s"], windows["rates"])]
        for name, st in watch.items()}
    return {
        "n": n, "concurrency": concurrency, "outcomes": dict(outcomes),
        "wall_s": round(wall, 2), "decisions_per_s": round(outcomes.get("approved", 0) / wall, 2),
        "decisions_per_s_submit_window": round(outcomes.get("approved", 0) / decide_window, 2),
        "sustained_decisions_per_s": windows["min"], "windows": windows,
        "latency_s": {"p50": round(pct(latencies, 50), 3), "p95": round(pct(latencies, 95), 3),
                      "p99": round(pct(latencies, 99), 3), "max": round(max(latencies), 3) if latencies else None},
        "history_breakdown_mean_s": {k: round(statistics.fmean(v), 4) for k, v in sorted(parts.items())},
    }


def windowed_rates(done: list[float], start: float, width: float = 10.0) -> dict[str, Any]:
    """Decisions per second in consecutive `width`-second windows of the steady state.

    Why: "sustained" means no stretch of the run falls below the rate, not a good average. The
    first window (ramp-up: the first applications are still being created) and the last, partial
    one (the tail drains at falling concurrency) are left out; at least one full window must remain.
    """
    if not done:
        return {"width_s": width, "starts_s": [], "rates": [], "min": None, "median": None}
    end = max(done)
    bounds = [start + width * k for k in range(1, int((end - start) // width))]
    rates = [round(sum(a <= t < a + width for t in done) / width, 2) for a in bounds]
    return {"width_s": width, "starts_s": [round(a - start, 3) for a in bounds], "rates": rates,
            "min": min(rates) if rates else None, "median": statistics.median(rates) if rates else None}


def main() -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=60, help="applications per configuration (bounded: <= 2000, ~3 minutes at 10/s)")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=4)
    ap.add_argument("--configs", default="default", help=f"comma list of {', '.join(CONFIGS)}")
    ap.add_argument("--markdown", metavar="FILE", help="also write the RESULTS.md section (markdown) to FILE")
    ap.add_argument("--temporal-sqlite-pragma", action="append", default=[], metavar="PRAGMA=VALUE",
                    help="passed to `temporal server start-dev --sqlite-pragma` (e.g. synchronous=off)")
    ap.add_argument("--temporal-dynamic-config", action="append", default=[], metavar="KEY=VALUE",
                    help="passed to `temporal server start-dev --dynamic-config-value` "
                         "(e.g. system.enableActivityEagerExecution=true)")
    ap.add_argument("--postgres", action="store_true",
                    help="creditflow's database on PostgreSQL 127.0.0.1:5432/test (a temporary schema)")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # The API's rate limit is per principal and every application here comes from one demo applicant
    # token, which real traffic never does: without this, runs above ~120 applications get 429s.
    # (Set here, not at import, so importing this module, as its unit test does, changes nothing.)
    os.environ.setdefault("CREDITFLOW_RATE_LIMIT_ENABLED", "false")
    n = max(1, min(args.n, 2000))
    names = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [c for c in names if c not in CONFIGS]
    if unknown:
        raise SystemExit(f"unknown config(s) {unknown}; choose from {list(CONFIGS)}")

    from creditflow import up
    from creditflow.config import Settings
    from creditflow.store.migrate import upgrade
    from creditflow.up import stack_commands, start, stop_all

    up.console.file = sys.stderr  # "✓ api is up" lines must not break the JSON on stdout

    var = Path(tempfile.mkdtemp(prefix="creditflow-load-"))
    ports = {k: free_port() for k in ("api", "nlp", "temporal", "ui")}
    settings = Settings(env="test", var_dir=var, api_port=ports["api"], nlp_port=ports["nlp"],
                        nlp_url=f"http://127.0.0.1:{ports['nlp']}", temporal_address=f"127.0.0.1:{ports['temporal']}",
                        temporal_ui_url=f"http://127.0.0.1:{ports['ui']}",
                        public_api_url=f"http://127.0.0.1:{ports['api']}")
    schema = None
    if args.postgres:
        import uuid

        import sqlalchemy as sa

        schema = f"load_{uuid.uuid4().hex[:8]}"
        eng = sa.create_engine(PG)
        with eng.begin() as c:
            c.execute(sa.text(f"CREATE SCHEMA {schema}"))
        eng.dispose()
        settings.database_url = f"{PG}?options=-csearch_path%3D{schema}"
    upgrade(settings)
    procs = stack_commands(settings)
    by = {p.name: p for p in procs}
    for pragma in args.temporal_sqlite_pragma:
        by["temporal"].argv += ["--sqlite-pragma", pragma]
    for value in args.temporal_dynamic_config:
        by["temporal"].argv += ["--dynamic-config-value", value]
    api = f"http://127.0.0.1:{ports['api']}"
    results: dict[str, Any] = {"machine": machine_info(), "command": " ".join(["benchmarks/load.py", *_without_markdown(sys.argv[1:])]),
                               "configs": {}}
    try:
        start(procs, settings, var / "logs")
        for name in names:
            for k in {k for c in CONFIGS.values() for k in c}:
                os.environ.pop(k, None)
            os.environ.update(CONFIGS[name])
            stop_all([by["worker"]])
            by["worker"].popen = None
            start([by["worker"]], settings, var / "logs")
            time.sleep(1.0)
            asyncio.run(run_load(api, settings, args.warmup, 2, f"warm-{name}", {}))
            watch = {p: ProcStats(by[p].popen.pid) for p in ("worker", "nlp", "api", "temporal")}  # type: ignore[union-attr]
            watch["load_generator"] = ProcStats(os.getpid(), children=False)
            res = asyncio.run(run_load(api, settings, n, args.concurrency, f"load-{name}", watch))
            res["processes"] = {p: s.result() for p, s in watch.items() if p != "load_generator"}
            # the generator shares the cores too (HTTP client, result long polls, history fetches at the end)
            res["load_generator_cpu_s"] = watch["load_generator"].result()["cpu_s"]
            res["settings"] = CONFIGS[name]
            results["configs"][name] = res
            print(json.dumps({name: res}), file=sys.stderr)
    finally:
        stop_all(procs)
        import shutil

        shutil.rmtree(var, ignore_errors=True)
        if schema:
            import sqlalchemy as sa

            eng = sa.create_engine(PG)
            with eng.begin() as c:
                c.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            eng.dispose()
    results["machine"]["python_loop_s_after"] = python_loop_seconds()
    results["options"] = {"temporal_sqlite_pragma": args.temporal_sqlite_pragma,
                          "temporal_dynamic_config": args.temporal_dynamic_config, "postgres": args.postgres}
    if args.markdown:
        Path(args.markdown).write_text(markdown(results) + "\n")
    print(json.dumps(results, indent=2))
    return results


def _without_markdown(argv: list[str]) -> list[str]:
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--markdown":
            skip = True
        elif not a.startswith("--markdown="):
            out.append(a)
    return out


def python_loop_seconds(n: int = 5_000_000) -> float:
    """Best of three timings of a fixed pure-Python loop: how fast this machine's cores are right now.

    Why: these shared machines differ (and drift) by 2x in single-core speed between sessions, so a
    decisions/s figure means little without it; CPU ms per application divided by this is comparable.
    """
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        acc = 0
        for i in range(n):
            acc += i
        best = min(best, time.perf_counter() - t)
    return round(best, 3)


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {"python": platform.python_version(), "cpus": os.cpu_count(),
                            "platform": platform.platform(), "python_loop_s": python_loop_seconds()}
    try:
        import temporalio

        info["temporalio"] = temporalio.__version__
    except Exception:
        pass
    return info


def _or_too_short(sustained: float | None) -> str:
    return "run too short" if sustained is None else str(sustained)


def markdown(results: dict[str, Any]) -> str:
    lines = [f"Command: `.venv/bin/python {results['command']}` on {results['machine']['cpus']} cores, "
             f"Python {results['machine']['python']}, temporalio {results['machine'].get('temporalio')}. "
             f"Core speed: a 5M-iteration Python loop took {results['machine'].get('python_loop_s')} s before and "
             f"{results['machine'].get('python_loop_s_after')} s after (lower is faster).", "",
             "| config | n | C | decisions/s (whole flow) | decisions/s (submit window) | "
             "sustained: lowest 10-s window | p50 s | p95 s | p99 s | "
             "worker CPU s | worker RSS MB | NLP CPU s | API CPU s | Temporal CPU s | CPU ms/application |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in results["configs"].items():
        p = r["processes"]
        lines.append(f"| {name} | {r['n']} | {r['concurrency']} | {r['decisions_per_s']} | "
                     f"{r['decisions_per_s_submit_window']} | "
                     f"{_or_too_short(r.get('sustained_decisions_per_s'))} | "
                     f"{r['latency_s']['p50']} | {r['latency_s']['p95']} | "
                     f"{r['latency_s']['p99']} | {p['worker']['cpu_s']} | {p['worker']['peak_rss_mb']} | "
                     f"{p['nlp']['cpu_s']} | {p['api']['cpu_s']} | {p['temporal']['cpu_s']} | "
                     f"{round(1000 * sum(v['cpu_s'] for v in p.values()) / r['n'])} |")
    for name, r in results["configs"].items():
        w = r.get("windows") or {}
        if not w.get("rates"):
            lines += ["", f"{name}: the run was shorter than one full {w.get('width_s', 10):g}-s window of steady "
                      "state after the ramp, so it has no per-window rates or sustained figure (run "
                      "`--n 300` or more for those)."]
            continue
        lines += ["", f"{name}: each full {w.get('width_s', 10):g}-s window of the steady state (load generator "
                  f"CPU in all: {r.get('load_generator_cpu_s')} s, history fetches after the run included). The "
                  "NLP service does the same work for every application, so its row is a control: when it "
                  "rises with the others, the machine slowed down, not the software.", "",
                  "| window starts at s | " + " | ".join(f"{a:g}" for a in w.get("starts_s", [])) + " |",
                  "|---|" + "---|" * len(w.get("rates", [])),
                  "| decisions/s | " + " | ".join(str(x) for x in w.get("rates", [])) + " |"]
        for proc, ms in (w.get("cpu_ms_per_decision") or {}).items():
            lines.append(f"| CPU ms per decision: {proc} | " + " | ".join(str(x) for x in ms) + " |")
    first = next(iter(results["configs"].values()))
    lines += ["", f"Where the time goes ({next(iter(results['configs']))}; mean seconds per application from "
              "the `submit` signal to workflow completion, from history timestamps):", "",
              "| part | mean s |", "|---|---|"]
    for k, v in first["history_breakdown_mean_s"].items():
        lines.append(f"| {k} | {v} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
