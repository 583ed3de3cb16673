#!/usr/bin/env python3
"""Times one big CSV export through `tally sync`, the Python peer and DuckDB, on the same file
and machine, checks that Tally's per-student totals equal DuckDB's, and prints a table.

Usage: csv_sync.py PATH/TO/tally [--rows N] [--seed S] [--runs K]

Tally and DuckDB run K times each (default 3; the median is shown, with every time), the
Python peer once: on a VM whose speed drifts, one run of a few seconds can be a fifth off.
Beside the wall times it prints the CPU seconds (user and system, all threads) of Tally and of
DuckDB's query, and what the bytes Tally's ledgers hold cost the machine without Tally
(`contract_floor`): with both programs keeping every core busy, the CPU is what the ratio of
their times comes from.
"""
import argparse
import os
import resource
import shutil
import sys
import tempfile

from common import (HERE, contract_floor, duckdb_totals_cpu, event_lines, fresh_work_dir, generate_export, median_of,
                    report_equal, tally_totals, timed, timed_cpu, warm)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tally")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    tally = os.path.abspath(args.tally)
    root = tempfile.mkdtemp(prefix="tally-bench-csv-")
    try:
        export = os.path.join(root, "export.csv")
        generate_export(export, args.rows, args.seed)
        size_mb = os.path.getsize(export) / 1e6
        # A warm page cache for everyone: read the file once first.
        warm(export)
        runs = []
        for _ in range(args.runs):
            work = fresh_work_dir(root, export, "export.csv")
            runs.append(timed_cpu([tally, "sync"], cwd=work))
        (tally_s, tally_mb, tally_cpu), tally_runs = median_of(runs)
        python_s, python_mb = timed([sys.executable, os.path.join(HERE, "reference.py"), export, os.path.join(root, "python")])
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        runs = []
        for _ in range(args.runs):
            seconds, duck, cpu = duckdb_totals_cpu(export)
            runs.append((seconds, cpu))
        (duck_s, duck_cpu), duck_runs = median_of(runs)
        duck_mb = max(0.0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before)

        mine = tally_totals(work)
        lines = event_lines(work)
        floor = contract_floor(work, export, root)
        print(f"{args.rows:,} rows, {size_mb:.0f} MB, {len(duck):,} students (seed {args.seed}); {lines:,} event lines written by Tally")
        print(f"  {'':<22}{'wall':>9}{'peak RSS':>12}{'vs tally':>10}{'CPU':>9}")
        print(f"  {'tally sync':<22}{tally_s:>8.2f}s{tally_mb:>9.0f} MiB{'1.0x':>10}{tally_cpu:>8.2f}s")
        print(f"  {'python peer':<22}{python_s:>8.2f}s{python_mb:>9.0f} MiB{python_s / tally_s:>9.1f}x")
        print(f"  {'duckdb (totals only)':<22}{duck_s:>8.2f}s{duck_mb:>9.0f} MiB{duck_s / tally_s:>9.2f}x{duck_cpu:>8.2f}s")
        if args.runs > 1:
            print(f"  (median of {args.runs} runs: tally {tally_runs} s; duckdb {duck_runs} s)")
        cores = len(os.sched_getaffinity(0))
        budget = 1.5 * duck_s * cores
        print(f"  the contract's own output, apart from Tally: appending {floor['bytes'] / 1e6:,.0f} MB of ledgers and"
              f" fsyncing them {floor['write_s']:.2f}s wall, {floor['write_cpu']:.2f}s CPU;"
              f" SHA-256 of the export and points.jsonl {floor['hash_cpu']:.2f}s CPU")
        print(f"  within 1.5x DuckDB leaves Tally {budget:.2f}s of CPU on {cores} cores (1.5 x {duck_s:.2f}s x {cores});"
              f" that output alone takes {floor['write_cpu'] + floor['hash_cpu']:.2f}s of it")
        report_equal(mine, duck)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
