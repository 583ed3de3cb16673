#!/usr/bin/env python3
"""Drop-to-site latency and burst throughput of `tally watch`.

Usage: watch_latency.py PATH/TO/tally [--students 10000] [--drops 200] [--burst 1000]

1. Seeds a state with N students (one `tally sync` of an N-row export).
2. Starts `tally watch`, then drops single-row exports one at a time, the way a sync
   client does (written under a dot-name, renamed into the inbox), and measures the time
   from the rename until site/leaderboard.json is replaced: the drop-to-site latency.
3. Moves a burst of small exports into the inbox at once and measures how long until all
   are archived and on the site: files per second, against the rate of one-at-a-time drops.
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time


def write_export(path, rows):
    with open(path, "w") as f:
        f.write("Timestamp,Email Address,Name,Course\n")
        for r in rows:
            f.write(r + "\n")


def wait_for(predicate, timeout=120.0, step=0.0005):
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tally")
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--drops", type=int, default=200)
    parser.add_argument("--burst", type=int, default=1000)
    args = parser.parse_args()
    tally = os.path.abspath(args.tally)
    root = tempfile.mkdtemp(prefix="tally-bench-watch-")
    inbox = os.path.join(root, "inbox")
    staging = os.path.join(root, "staging")
    os.makedirs(inbox)
    os.makedirs(staging)
    board = os.path.join(root, "site", "leaderboard.json")
    try:
        write_export(os.path.join(inbox, "seed.csv"),
                     [f"2024-09-01T10:00:00Z,seed{i}@example.org,Seed {i},Course {i % 20}" for i in range(args.students)])
        started = time.perf_counter()
        subprocess.run([tally, "sync"], cwd=root, check=True, stdout=subprocess.DEVNULL)
        seed_seconds = time.perf_counter() - started

        log = open(os.path.join(root, "watch.log"), "w")
        daemon = subprocess.Popen([tally, "watch"], cwd=root, stdout=log, stderr=log)
        if not wait_for(lambda: "watching" in open(os.path.join(root, "watch.log")).read(), 30, 0.01):
            sys.exit("tally watch did not start")

        latencies = []
        for n in range(args.drops):
            hidden = os.path.join(inbox, f".drop-{n}.csv")
            write_export(hidden, [f"2024-09-02T10:00:00Z,drop{n}@example.org,Drop {n},Course {n % 20}"])
            before = os.stat(board).st_mtime_ns
            t0 = time.perf_counter()
            os.rename(hidden, os.path.join(inbox, f"drop-{n}.csv"))
            if not wait_for(lambda: os.stat(board).st_mtime_ns != before, 30):
                sys.exit(f"drop {n} never reached the site")
            latencies.append(time.perf_counter() - t0)
        sequential_rate = len(latencies) / sum(latencies)

        for n in range(args.burst):
            write_export(os.path.join(staging, f"burst-{n}.csv"),
                         [f"2024-09-03T10:00:00Z,burst{n}@example.org,Burst {n},Course {n % 20}"])
        archive = os.path.join(root, "data", "archive")
        expected = len(os.listdir(archive)) + args.burst
        t0 = time.perf_counter()
        for n in range(args.burst):
            os.rename(os.path.join(staging, f"burst-{n}.csv"), os.path.join(inbox, f"burst-{n}.csv"))
        if not wait_for(lambda: len(os.listdir(archive)) >= expected and not os.listdir(inbox), 300, 0.002):
            sys.exit("the burst was not fully processed")
        burst_seconds = time.perf_counter() - t0

        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)
        # Read after the exit: a batch logs its line after its files are archived.
        batches = open(os.path.join(root, "watch.log")).read().count("batch (drop)")

        # Inclusive: with a few drops, the default (exclusive) method puts p99 beyond the slowest one.
        q = statistics.quantiles(latencies, n=100, method="inclusive")
        print(f"tally watch, {args.students} students in the state (seeded by one sync in {seed_seconds:.2f} s)")
        print(f"  single drops ({args.drops}): drop-to-site p50 {q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms, "
              f"max {max(latencies) * 1000:.1f} ms  ->  {sequential_rate:.0f} files/s one at a time")
        print(f"  burst of {args.burst} files: all on the site in {burst_seconds:.2f} s  ->  "
              f"{args.burst / burst_seconds:.0f} files/s in {batches} batches "
              f"({args.burst / burst_seconds / sequential_rate:.1f}x the one-at-a-time rate)")
        print(f"  exit after SIGTERM: {daemon.returncode}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
