"""`make bench`: every benchmark with modest, bounded defaults; results into benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/run_all.py [--quick] [--skip-nlp]

Runs, each as its own process (so one crashing does not lose the others):
  decision_bench.py 3000                      decisions/s of the decision module
  activity_bench.py 200                       CPU ms of each activity of one clear approval (no server)
  nlp_bench.py                                creditflow NLP vs Presidio (builds a Presidio venv once:
                                              minutes; skipped with --skip-nlp or when it fails)
  workflow_bench.py --n 100 --concurrency 8   application vs bare Temporal workflow (ratio): dev server
                                              defaults; WAL pragmas; WAL + no sandbox (production
                                              workers); the same with the API in its own process
  load.py --n 40 --concurrency 8 --configs default,no-sandbox,no-sticky,polls-10   (and default,polls-10 with WAL)
  credit_line_bench.py --lines 20
  sandbox_bench.py --rounds 5 --replays 30    workflow CPU with and without the Python sandbox (replay)
and rewrites only the sections between `<!-- run-all:start -->`/`end` and `<!-- load:start -->`/`end`
(nlp_bench.py maintains its own `nlp-bench` section; other sections are left alone).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
PY = sys.executable


def machine() -> str:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = ""
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        mem = f"{kb / 2**20:.0f} GB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{os.cpu_count()} cores ({cpu}), {mem}, Python {platform.python_version()}, {platform.platform()}"


def run(argv: list[str], timeout: float) -> tuple[int, str, str, float]:
    """(exit code, stdout, stderr tail, seconds)."""
    t0 = time.perf_counter()
    try:
        p = subprocess.run([PY, *argv], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr[-3000:], time.perf_counter() - t0
    except subprocess.TimeoutExpired:
        return -1, "", f"timed out after {timeout:.0f}s", time.perf_counter() - t0


def last_json(text: str) -> dict | None:
    """The last JSON object a benchmark printed (they print progress before it)."""
    start = text.rfind("\n{")
    for s in ([start + 1] if start >= 0 else []) + [text.find("{")]:
        if s < 0:
            continue
        try:
            return json.loads(text[s:])
        except json.JSONDecodeError:
            continue
    return None


def replace_section(text: str, name: str, body: str) -> str:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n\n{body.strip()}\n\n{end}"
    if start in text and end in text:
        return re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _m: block, text, flags=re.S)
    return text.rstrip() + "\n\n" + block + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    ap.add_argument("--skip-nlp", action="store_true")
    args = ap.parse_args()
    q = args.quick
    tmp = Path(tempfile.mkdtemp())
    load_md = tmp / "load.md"  # load.py runs the stack as `creditflow up` does (WAL pragmas included)
    wal = ["--temporal-sqlite-pragma", "journal_mode=wal", "--temporal-sqlite-pragma", "synchronous=normal"]
    # 100 workflows per side: at 40 a timed phase lasted ~3 s and one slow second moved the ratio by 0.1
    n_wf, n_load = ("10", "12") if q else ("100", "40")
    plan = [
        ("decision", ["benchmarks/decision_bench.py", "500" if q else "3000"], 600),
        ("activity", ["benchmarks/activity_bench.py", "50" if q else "200"], 600),
        ("workflow", ["benchmarks/workflow_bench.py", "--n", n_wf, "--concurrency", "8"], 900),
        ("workflow_wal", ["benchmarks/workflow_bench.py", "--n", n_wf, "--concurrency", "8", *wal], 900),
        ("workflow_prod", ["benchmarks/workflow_bench.py", "--n", n_wf, "--concurrency", "8", *wal, "--no-sandbox"],
         900),
        ("workflow_prod_api", ["benchmarks/workflow_bench.py", "--n", n_wf, "--concurrency", "8", *wal, "--no-sandbox",
                               "--api-process"], 900),
        ("load", ["benchmarks/load.py", "--n", n_load, "--concurrency", "8",
                  "--configs", "default" if q else "default,no-sandbox,no-sticky,polls-10", "--markdown", str(load_md)], 1500),
        ("credit_line", ["benchmarks/credit_line_bench.py", "--lines", "5" if q else "20"], 900),
        ("sandbox", ["benchmarks/sandbox_bench.py", "--rounds", "3" if q else "5", "--replays", "10" if q else "30"], 900),
    ]
    if not args.skip_nlp:
        plan.insert(1, ("nlp", ["benchmarks/nlp_bench.py"], 1800))
    rows, outputs = [], {}
    for name, argv, timeout in plan:
        print(f"== {name}: {' '.join(argv)}", flush=True)
        code, out, err, secs = run(argv, timeout)
        # a benchmark that printed its result and then crashed on exit keeps its result (flagged by its exit)
        data = last_json(out[:out.rfind("}") + 1]) if "}" in out else None
        outputs[name] = data
        rows.append((name, argv, code, secs, data, err if code else ""))
        print(f"   exit {code} in {secs:.0f}s", flush=True)

    lines = [f"Command: `make bench` (= `.venv/bin/python benchmarks/run_all.py{' --quick' if q else ''}"
             f"{' --skip-nlp' if args.skip_nlp else ''}`), {time.strftime('%Y-%m-%d')}.", "",
             f"Machine: {machine()}.", "", "| benchmark | exact command | exit | seconds | headline |",
             "|---|---|---|---|---|"]
    for name, argv, code, secs, data, _err in rows:
        lines.append(f"| {name} | `.venv/bin/python {' '.join(argv)}` | {code} | {secs:.0f} | {headline(name, data)} |")
    for key, label in (("workflow", "dev server with its default SQLite settings: every write synced"),
                       ("workflow_wal", "dev server with `--sqlite-pragma journal_mode=wal --sqlite-pragma "
                                        "synchronous=normal`, as `creditflow up` and load.py start it"),
                       ("workflow_prod", "WAL dev server and both workers without the workflow sandbox, as "
                                         "production workers run"),
                       ("workflow_prod_api", "as workflow_prod, with the API in its own `creditflow api` process "
                                             "as `creditflow up` and compose run it")):
        wf = outputs.get(key)
        if wf:
            lines += ["", f"**Application vs bare Temporal workflow ({label}): {wf['ratio']}x** (goal >= 0.7x): "
                      f"{wf['application_per_s']} applications/s vs {wf['bare_per_s']} bare workflows/s with the "
                      f"same {wf['activities']} activities in stages {wf['activity_shape']} ([local, regular] "
                      f"per workflow task) and a child shaped like the credit line an approval opens "
                      f"{wf.get('credit_line_shape')}, n={wf['n']}, "
                      f"concurrency {wf['concurrency']}, one dev server, one worker. CPU ms per workflow by "
                      f"process, application / bare: {_cpu_pairs(wf)}."]
    for name, argv, code, _secs, data, err in rows:
        if code:
            what = "printed its result, then exited" if data else "failed"
            lines += ["", f"{name} {what} (exit {code}); end of its stderr:", "", "```", err.strip()[-1200:], "```"]
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n"
    text = replace_section(text, "run-all", "## make bench: summary\n\n" + "\n".join(lines))
    if load_md.exists():
        body = ("## Load: submit-to-decision latency and throughput\n\nThe stack as `creditflow up` starts it "
                "(dev server with WAL + synchronous=normal):\n\n")
        body += load_md.read_text()
        text = replace_section(text, "load", body)
    RESULTS.write_text(text)
    print(f"wrote {RESULTS}")


def _cpu_pairs(wf: dict) -> str:
    cpu = wf.get("cpu_ms_per_workflow") or {}
    app, bare = cpu.get("application", {}), cpu.get("bare", {})
    return ", ".join(f"{k} {v} / {bare.get(k, '-')}" for k, v in app.items()) or "-"


def headline(name: str, d: dict | None) -> str:
    if not d:
        return "-"
    try:
        if name == "decision":
            return ", ".join(f"{k} {v:.0f}" if isinstance(v, (int, float)) else f"{k} {v}" for k, v in d.items())
        if name.startswith("workflow"):
            return f"ratio {d['ratio']} ({d['application_per_s']}/s vs {d['bare_per_s']}/s)"
        if name.startswith("load"):
            c = d["configs"].get("default") or next(iter(d["configs"].values()))
            return (f"default: {c['decisions_per_s']} decisions/s, p50 {c['latency_s']['p50']} s, "
                    f"p95 {c['latency_s']['p95']} s")
        if name == "nlp":
            return "see the NLP section"
        if name == "activity":
            return (f"{d['cpu_ms_total']} ms CPU per clear approval: "
                    + ", ".join(f"{k} {v}" for k, v in d["cpu_ms_per_application"].items()))
        if name == "sandbox":
            r = d["rounds"][0]
            return (f"workflow CPU without / with the sandbox: {d['median_ratio_unsandboxed_to_sandboxed']}x "
                    f"(replay of an approval + credit line: {r['unsandboxed_ms']} vs {r['sandboxed_ms']} ms, round 1)")
        return json.dumps(d)[:200].replace("|", "/")
    except (KeyError, TypeError, StopIteration):
        return json.dumps(d)[:200].replace("|", "/")


if __name__ == "__main__":
    main()
