"""Workflow CPU with and without the Python SDK's sandbox, by replaying committed histories.

    .venv/bin/python benchmarks/sandbox_bench.py [--rounds 5] [--replays 40]

Why replay: it runs exactly the worker-side workflow code (a new workflow instance per history, every
activation of a real approval and of the credit line it opens) in one process, with no server, NLP or
database whose noise would swamp the difference. Each round times both runners back to back by process
CPU time and the ratio is taken per round, so a machine whose speed drifts (these shared ones do)
still yields a usable ratio. Prints one JSON document. Never part of the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
HISTORIES = ("credit_application_approved_auto_v3", "credit_line_first_run_v2")


async def replay_cpu(histories: list, sandboxed: bool, replays: int) -> float:
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

    from creditflow.worker import cache_workflow_bytecode, workflows_list

    cache_workflow_bytecode()
    extra = {} if sandboxed else {"workflow_runner": UnsandboxedWorkflowRunner()}
    replayer = Replayer(workflows=workflows_list(), data_converter=pydantic_data_converter, **extra)  # type: ignore[arg-type]
    t = time.process_time()
    for _ in range(replays):
        for h in histories:
            await replayer.replay_workflow(h)
    return time.process_time() - t


async def main() -> dict:
    from temporalio.client import WorkflowHistory

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--replays", type=int, default=40, help="replays of each history per runner and round")
    args = ap.parse_args()
    histories = [WorkflowHistory.from_json(n, json.loads((ROOT / "tests" / "histories" / f"{n}.json").read_text()))
                 for n in HISTORIES]
    await replay_cpu(histories, True, 2)  # warm imports and caches for both runners
    await replay_cpu(histories, False, 2)
    rounds = []
    for i in range(args.rounds):
        order = (True, False) if i % 2 == 0 else (False, True)
        cpu = {s: await replay_cpu(histories, s, args.replays) for s in order}
        rounds.append({"sandboxed_ms": round(1000 * cpu[True] / args.replays, 2),
                       "unsandboxed_ms": round(1000 * cpu[False] / args.replays, 2),
                       "ratio": round(cpu[False] / cpu[True], 3)})
    result = {"command": "benchmarks/sandbox_bench.py " + " ".join(sys.argv[1:]), "histories": list(HISTORIES),
              "replays_per_round": args.replays, "rounds": rounds,
              "median_ratio_unsandboxed_to_sandboxed": statistics.median(r["ratio"] for r in rounds),
              "note": "CPU ms to replay one approval plus the credit line's first run (30 days), per runner"}
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    asyncio.run(main())
