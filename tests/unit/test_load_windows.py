"""The load generator's "sustained" figure: the slowest full 10-s window, not the run's average.

benchmarks/load.py is never run by the suite (it needs the whole stack for minutes); this keeps the
one number the #10 goal is read from honest: a stall in the middle must show, ramp-up must not.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

spec = importlib.util.spec_from_file_location("load_bench", Path(__file__).resolve().parents[2] / "benchmarks" / "load.py")
load = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
spec.loader.exec_module(load)  # type: ignore[union-attr]


def _steady(rate: float, seconds: float, t0: float = 0.0) -> list[float]:
    return [t0 + (i + 0.5) / rate for i in range(int(rate * seconds))]


def test_a_steady_run_reports_its_rate_without_the_ramp_and_the_partial_tail() -> None:
    done = [0.9, 1.0] + _steady(12, 44.0, t0=1.0)  # slow first second, then 12/s; ends mid-window
    w = load.windowed_rates(done, start=0.0)
    assert w["rates"] == [12.0, 12.0, 12.0]  # windows 10-20, 20-30, 30-40; 0-10 and 40-45 left out
    assert w["min"] == 12.0


def test_a_stall_in_the_middle_pulls_the_sustained_rate_down_though_the_average_hides_it() -> None:
    done = _steady(15, 20.0) + _steady(15, 10.0, t0=30.0) + _steady(15, 20.0, t0=40.0)  # nothing 20-30 s
    w = load.windowed_rates(done, start=0.0)
    assert len(done) / 60.0 > 10  # the average still passes
    assert w["min"] == 0.0 and w["median"] == 15.0


def test_too_short_a_run_has_no_sustained_figure() -> None:
    assert load.windowed_rates([1.0, 2.0, 15.0], start=0.0)["min"] is None
    assert load.windowed_rates([], start=0.0)["min"] is None


def test_the_report_says_a_short_run_has_no_windows_instead_of_printing_empty_tables() -> None:
    windows = load.windowed_rates([1.0, 2.0, 15.0], start=0.0)
    procs = {p: {"cpu_s": 1.0, "peak_rss_mb": 100.0} for p in ("worker", "nlp", "api", "temporal")}
    run = {"n": 3, "concurrency": 1, "decisions_per_s": 0.2, "decisions_per_s_submit_window": 0.2,
           "sustained_decisions_per_s": windows["min"], "windows": windows, "processes": procs,
           "latency_s": {"p50": 0.5, "p95": 0.6, "p99": 0.7}, "load_generator_cpu_s": 0.1,
           "history_breakdown_mean_s": {"total": 0.5}}
    text = load.markdown({"command": "benchmarks/load.py --n 3", "configs": {"default": run},
                          "machine": {"cpus": 2, "python": "3.11", "temporalio": "1.35.0", "python_loop_s": 0.19,
                                      "python_loop_s_after": 0.2}})
    assert "shorter than one full 10-s window" in text and "| run too short |" in text
    assert "| window starts at s |" not in text and "None" not in text
