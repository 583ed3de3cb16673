#!/usr/bin/env python3
"""How long `tally watch` takes to be ready on a big data directory, with a valid snapshot.

Prepares (once, cached) a data directory by syncing a generated export of N rows — about
1.6 ledger lines a row — then starts `tally watch` on it several times and times each start
until the daemon tells systemd READY=1 (through a NOTIFY_SOCKET this script listens on), with
its peak memory. The daemon must load index.bin and fold nothing: the ledgers are not read.

Usage: startup.py PATH/TO/tally [--rows N] [--seed S] [--runs K] [--cache DIR]
"""
import argparse
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def index_format():
    """The index.bin format this Tally writes: a cached directory of another one would be
    rebuilt at the first start, and that start timed as if it were a load."""
    source = os.path.join(HERE, "..", "..", "Sources", "TallyKit", "State", "State.swift")
    with open(source, encoding="utf-8") as handle:
        found = re.search(r"indexFormat = (\d+)", handle.read())
    return found.group(1) if found else "unknown"


def prepare(tally, rows, seed, cache):
    """A work directory holding the ledgers and snapshot of a synced export of `rows` rows."""
    work = os.path.join(cache, f"startup-{rows}-{seed}-index{index_format()}")
    if os.path.exists(os.path.join(work, "data", "index.bin")):
        return work
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "inbox"))
    export = os.path.join(work, "inbox", "export.csv")
    print(f"preparing {rows:,} rows in {work} (once; it is cached)", file=sys.stderr)
    subprocess.run([sys.executable, os.path.join(HERE, "generate_export.py"), export, "--rows", str(rows),
                    "--seed", str(seed)], check=True)
    started = time.perf_counter()
    subprocess.run([tally, "sync"], cwd=work, check=False, stdout=subprocess.DEVNULL)
    print(f"  synced in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    shutil.rmtree(os.path.join(work, "data", "archive"), ignore_errors=True)
    os.makedirs(os.path.join(work, "data", "archive"))
    return work


def lines(path):
    count = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 24):
            count += chunk.count(b"\n")
    return count


def start_once(tally, work):
    """Starts `tally watch`, waits for READY=1; returns (seconds, peak RSS MiB)."""
    directory = tempfile.mkdtemp(prefix="tally-notify-")
    address = os.path.join(directory, "notify")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(address)
    listener.settimeout(600)
    env = dict(os.environ, NOTIFY_SOCKET=address)
    started = time.perf_counter()
    process = subprocess.Popen([tally, "watch"], cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while True:
            message = listener.recv(4096).decode()
            if "READY=1" in message.split("\n"):
                break
        ready = time.perf_counter() - started
        with open(f"/proc/{process.pid}/status") as status:
            peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=600)
        return ready, peak
    finally:
        if process.poll() is None:
            process.kill()
        listener.close()
        shutil.rmtree(directory, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tally")
    parser.add_argument("--rows", type=int, default=6_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache", default=os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                                                       "tally-bench"))
    args = parser.parse_args()
    tally = os.path.abspath(args.tally)
    work = prepare(tally, args.rows, args.seed, args.cache)
    data = os.path.join(work, "data")
    total = sum(lines(os.path.join(data, name)) for name in ("events.jsonl", "points.jsonl", "audit.jsonl"))
    size = sum(os.path.getsize(os.path.join(data, name)) for name in ("events.jsonl", "points.jsonl"))
    index = os.path.getsize(os.path.join(data, "index.bin"))
    # The first start may bring the snapshot forward (a fresh build, an index of another
    # format); the timed ones start from what it left.
    start_once(tally, work)
    results = [start_once(tally, work) for _ in range(args.runs)]
    print(f"{total:,} ledger lines ({size / 1e9:.2f} GB), index.bin {index / 1e6:.0f} MB; `tally watch` until READY=1:")
    for seconds, peak in results:
        print(f"  {seconds:6.2f} s   peak RSS {peak:6.0f} MiB")
    best = min(seconds for seconds, _ in results)
    print(f"  best {best:.2f} s")


if __name__ == "__main__":
    main()
