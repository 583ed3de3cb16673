#!/usr/bin/env python3
"""Times `tally sync` on the seeded export of generate_export.py given as another input kind,
checks that Tally's per-student totals equal DuckDB's (computed from the CSV), prints a table.

Usage: input_sync.py xlsx|jsonl PATH/TO/tally [--rows N] [--seed S]

- xlsx: the rows in the first sheet of a workbook written by xlsxwriter (constant_memory),
  every cell a text cell exactly as in the CSV (dates too, so Tally reads them as it reads the
  CSV's). Writing a million rows takes a while, so the workbook is kept in
  ${XDG_CACHE_HOME:-~/.cache}/tally-bench/, keyed by rows, seed and generate_export.py.
- jsonl: one flat event object a line, {"email", "name", "course", "at", "certificate_url"},
  the values as in the CSV: a course completion to Tally.
"""
import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time

from common import (HERE, cache_dir, duckdb_totals, event_lines, export_rows, fresh_work_dir, generate_export,
                    report_equal, tally_totals, timed, warm)

XLSX_MAX_ROWS = 1_048_576 - 1  # Excel's sheet limit, less the header row


def generator_key():
    """A short hash of the generator, so that a changed generator never reuses a stale cache."""
    with open(os.path.join(HERE, "generate_export.py"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:10]


def write_xlsx(csv_path, path):
    try:
        import xlsxwriter
    except ImportError:
        sys.exit("input_sync.py xlsx needs xlsxwriter: python3 -m pip install xlsxwriter")
    partial = f"{path}.{os.getpid()}.partial"
    workbook = xlsxwriter.Workbook(partial, {"constant_memory": True})
    sheet = workbook.add_worksheet("Form Responses 1")
    for r, row in enumerate(export_rows(csv_path)):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    workbook.close()
    os.replace(partial, path)


def write_jsonl(csv_path, path):
    rows = export_rows(csv_path)
    header = next(rows)
    column = {name: i for i, name in enumerate(header)}
    email, name, course, at, cert = (column[h] for h in
                                     ("Email Address", "Full name", "Course", "Timestamp", "Certificate link"))
    with open(path, "w") as out:
        for row in rows:
            out.write(json.dumps({"email": row[email], "name": row[name], "course": row[course], "at": row[at],
                                  "certificate_url": row[cert]}, separators=(",", ":")) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["xlsx", "jsonl"])
    parser.add_argument("tally")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.kind == "xlsx" and args.rows > XLSX_MAX_ROWS:
        sys.exit(f"an XLSX sheet holds at most {XLSX_MAX_ROWS:,} rows below its header")
    tally = os.path.abspath(args.tally)
    root = tempfile.mkdtemp(prefix=f"tally-bench-{args.kind}-")
    try:
        export = os.path.join(root, "export.csv")
        generate_export(export, args.rows, args.seed)

        started = time.perf_counter()
        if args.kind == "xlsx":
            source = os.path.join(cache_dir(), f"export-{args.rows}-seed{args.seed}-{generator_key()}.xlsx")
            if os.path.exists(source):
                made = f"cached: {source}"
            else:
                write_xlsx(export, source)
                made = f"written in {time.perf_counter() - started:.0f}s, cached: {source}"
        else:
            source = os.path.join(root, "export.jsonl")
            write_jsonl(export, source)
            made = f"written in {time.perf_counter() - started:.0f}s"
        size_mb = os.path.getsize(source) / 1e6
        csv_mb = os.path.getsize(export) / 1e6

        work = fresh_work_dir(root, source, f"export.{args.kind}")
        warm(source)
        tally_s, tally_mb = timed([tally, "sync"], cwd=work)
        duck_s, duck = duckdb_totals(export)

        mine = tally_totals(work)
        lines = event_lines(work)
        label = {"xlsx": "XLSX", "jsonl": "JSON lines"}[args.kind]
        print(f"{args.rows:,} rows as {label}, {size_mb:.0f} MB (the CSV: {csv_mb:.0f} MB), {len(duck):,} students "
              f"(seed {args.seed}); {lines:,} event lines written by Tally")
        print(f"  {'':<14}{'wall':>9}{'peak RSS':>12}{'MB/s':>8}{'rows/s':>11}")
        print(f"  {'tally sync':<14}{tally_s:>8.2f}s{tally_mb:>9.0f} MiB{size_mb / tally_s:>8.1f}"
              f"{args.rows / tally_s:>11,.0f}")
        print(f"  input {made}; DuckDB's totals from the CSV in {duck_s:.2f}s")
        report_equal(mine, duck)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
