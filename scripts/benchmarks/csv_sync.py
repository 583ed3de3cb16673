#!/usr/bin/env python3
"""Times one big CSV export through `tally sync`, the Python peer and DuckDB, on the same file
and machine, checks that Tally's per-student totals equal DuckDB's, and prints a table.

Usage: csv_sync.py PATH/TO/tally [--rows N] [--seed S] [--keep DIR]
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(command, cwd=None):
    """Runs a command; returns (seconds, peak RSS in MiB) of that child alone."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"{command[0]} failed with {code}: {process.stderr.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


def duckdb_totals(path):
    import duckdb
    started = time.perf_counter()
    query = f"""
        WITH rows AS (
          SELECT lower(trim("Email Address")) AS e, trim("Course") AS course
          FROM read_csv('{path}', header = true, all_varchar = true)
        ), normalised AS (
          SELECT CASE WHEN split_part(e, '@', 2) IN ('gmail.com', 'googlemail.com')
                      THEN replace(split_part(split_part(e, '@', 1), '+', 1), '.', '') || '@gmail.com'
                      ELSE e END AS email, course
          FROM rows WHERE e LIKE '%_@_%._%' AND course <> ''
        )
        SELECT email, count(DISTINCT course) * 20 AS xp FROM normalised GROUP BY email
    """
    totals = dict(duckdb.sql(query).fetchall())
    return time.perf_counter() - started, totals


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tally")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    tally = os.path.abspath(args.tally)
    root = tempfile.mkdtemp(prefix="tally-bench-csv-")
    try:
        export = os.path.join(root, "export.csv")
        subprocess.run([sys.executable, os.path.join(HERE, "generate_export.py"), export, "--rows", str(args.rows),
                        "--seed", str(args.seed)], check=True)
        size_mb = os.path.getsize(export) / 1e6
        work = os.path.join(root, "tally")
        os.makedirs(os.path.join(work, "inbox"))
        shutil.copy(export, os.path.join(work, "inbox", "export.csv"))
        # A warm page cache for everyone: read the file once first.
        with open(export, "rb") as f:
            while f.read(1 << 24):
                pass
        tally_s, tally_mb = timed([tally, "sync"], cwd=work)
        python_s, python_mb = timed([sys.executable, os.path.join(HERE, "reference.py"), export, os.path.join(root, "python")])
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        duck_s, duck = duckdb_totals(export)
        duck_mb = max(0.0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before)

        with open(os.path.join(work, "data", "state.json")) as f:
            students = json.load(f)["students"]
        mine = {email: s["xp"] for email, s in students.items()}
        equal = mine == duck
        lines = sum(1 for _ in open(os.path.join(work, "data", "events.jsonl")))
        print(f"{args.rows:,} rows, {size_mb:.0f} MB, {len(duck):,} students (seed {args.seed}); {lines:,} event lines written by Tally")
        print(f"  {'':<22}{'wall':>9}{'peak RSS':>12}{'vs tally':>10}")
        print(f"  {'tally sync':<22}{tally_s:>8.2f}s{tally_mb:>9.0f} MiB{'1.0x':>10}")
        print(f"  {'python peer':<22}{python_s:>8.2f}s{python_mb:>9.0f} MiB{python_s / tally_s:>9.1f}x")
        print(f"  {'duckdb (totals only)':<22}{duck_s:>8.2f}s{duck_mb:>9.0f} MiB{duck_s / tally_s:>9.2f}x")
        print(f"  per-student totals equal to DuckDB's: {'yes' if equal else 'NO'}")
        if not equal:
            differing = [e for e in set(mine) | set(duck) if mine.get(e) != duck.get(e)][:5]
            print("  first differences:", [(e, mine.get(e), duck.get(e)) for e in differing])
            sys.exit(1)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
