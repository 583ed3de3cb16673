#!/usr/bin/env python3
"""Requests per second and latency of signed deliveries through the webhook front door.

Usage: receive_load.py PATH/TO/tally [--seconds 10] [--connections 1,16,64] [--watch]

Starts `tally receive --listen 127.0.0.1:0` (with --watch: `tally watch --listen`, so the
daemon processes what arrives while the load runs) in a fresh directory with a secret, then
for each number of connections runs wrk (2 threads, or 1 for 1 connection; keep-alive) posting one signed Kajabi
form submission over and over. Every 200 is a capture written, fsynced and renamed into
the inbox. Prints requests/s and the p50/p99 latency wrk measured, and checks that the inbox
(or, with --watch, the archive) holds at least as many files as wrk counted answers.
"""
import argparse
import hashlib
import hmac
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SECRET = "bench-secret"
BODY = ('{"event_type": "form.submitted", "event_id": "evt_bench", "created_at": "2026-11-21T11:05:42Z", '
        '"data": {"form": {"id": "77", "title": "Course completion"}, "submission": {"id": "sub_1", "fields": '
        '{"email": "ada@school.example", "course_name": "Data Literacy 101", '
        '"completion_date": "2026-11-21T11:05:00Z", "student_name": "Ada Lovelace"}}}}')


def lua_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def start(tally, root, watch):
    log = open(os.path.join(root, "tally.log"), "w+")
    command = [tally, "watch" if watch else "receive", "--listen", "127.0.0.1:0", "--log-level", "notice"]
    process = subprocess.Popen(command, cwd=root, stdout=log, stderr=log)
    deadline = time.time() + 60
    while time.time() < deadline:
        log.seek(0)
        found = re.search(r"front door listening on http://127\.0\.0\.1:(\d+)", log.read())
        if found:
            return process, int(found.group(1))
        if process.poll() is not None:
            sys.exit("tally stopped: " + open(os.path.join(root, "tally.log")).read())
        time.sleep(0.05)
    sys.exit("tally did not start listening")


def count_files(root, watch):
    folder = os.path.join(root, "data", "archive") if watch else os.path.join(root, "inbox")
    if not os.path.isdir(folder):
        return 0
    return sum(1 for name in os.listdir(folder) if name.startswith("kajabi-"))


def parse_wrk(output):
    def seconds(text):
        number, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
        return float(number) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    p50 = seconds(re.search(r"\s50%\s+(\S+)", output).group(1))
    p99 = seconds(re.search(r"\s99%\s+(\S+)", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return rps, total, p50, p99, int(bad.group(1)) if bad else 0, errors.group(1) if errors else ""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tally")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", default="1,16,64")
    parser.add_argument("--watch", action="store_true")
    args = parser.parse_args()
    tally = os.path.abspath(args.tally)
    signature = hmac.new(SECRET.encode(), BODY.encode(), hashlib.sha256).hexdigest()

    print(f"front door ({'tally watch --listen' if args.watch else 'tally receive'}), signed deliveries "
          f"of {len(BODY)} bytes, wrk -t2, {args.seconds} s each, keep-alive")
    print(f"{'connections':>11} {'requests/s':>11} {'p50':>9} {'p99':>9} {'answered':>9} {'non-200':>8} {'files':>7}")
    for connections in [int(c) for c in args.connections.split(",")]:
        root = tempfile.mkdtemp(prefix="tally-bench-receive-")
        try:
            with open(os.path.join(root, "tally.toml"), "w") as f:
                f.write(f'[kajabi]\nsecret = "{SECRET}"\n[receive]\nmax_requests = 256\nmax_connections = 512\n')
            script = os.path.join(root, "post.lua")
            with open(script, "w") as f:
                f.write(f'wrk.method = "POST"\nwrk.body = {lua_string(BODY)}\n'
                        f'wrk.headers["Content-Type"] = "application/json"\n'
                        f'wrk.headers["X-Kajabi-Signature"] = "{signature}"\n')
            process, port = start(tally, root, args.watch)
            try:
                output = subprocess.run(
                    ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{args.seconds}s", "--latency", "-s", script,
                     f"http://127.0.0.1:{port}/kajabi"], capture_output=True, text=True, check=True).stdout
                rps, total, p50, p99, bad, errors = parse_wrk(output)
                if args.watch:
                    # Let the daemon take in what is left before counting its archive.
                    deadline = time.time() + 120
                    while time.time() < deadline and len([n for n in os.listdir(os.path.join(root, "inbox"))
                                                          if not n.startswith(".")]) > 0:
                        time.sleep(0.2)
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
            files = count_files(root, args.watch)
            print(f"{connections:>11} {rps:>11,.0f} {p50 * 1000:>7.2f}ms {p99 * 1000:>7.2f}ms {total:>9,} {bad:>8,} {files:>7,}"
                  + (f"  socket errors: {errors}" if errors else ""))
            if bad:
                sys.exit(f"{bad} deliveries were not answered 200")
            if files < total:
                sys.exit(f"only {files} files for {total} answers: a 200 without a file")
        finally:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
