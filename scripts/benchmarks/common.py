"""Helpers shared by the sync benchmarks (csv_sync.py, input_sync.py): the seeded export,
timing a child process, DuckDB's per-student totals, Tally's totals, and what the ledgers'
bytes cost the machine without Tally."""
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def generate_export(path, rows, seed):
    """Writes generate_export.py's CSV export (N rows, N/10 students, 20 courses) to `path`."""
    subprocess.run([sys.executable, os.path.join(HERE, "generate_export.py"), path, "--rows", str(rows),
                    "--seed", str(seed)], check=True)


def export_rows(path):
    """The header and then each row of a generated export, as lists of strings."""
    with open(path, newline="") as f:
        yield from csv.reader(f)


def cache_dir():
    """Where generated inputs that take long to write are kept between runs."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "tally-bench")
    os.makedirs(path, exist_ok=True)
    return path


def warm(path):
    """Reads a file once, so that every timed reader starts from a warm page cache."""
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def timed(command, cwd=None):
    """Runs a command; returns (seconds, peak RSS in MiB) of that child alone."""
    seconds, mib, _ = timed_cpu(command, cwd)
    return seconds, mib


def timed_cpu(command, cwd=None):
    """Runs a command; returns (seconds, peak RSS in MiB, user + system CPU seconds) of that child alone."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"{command[0]} failed with {code}: {process.stderr.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def own_cpu():
    """This process's user + system CPU seconds so far (all its threads: DuckDB's among them)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def duckdb_totals(path):
    """(seconds, {normalised email: xp}) for a CSV export: 20 per distinct course per student."""
    seconds, totals, _ = duckdb_totals_cpu(path)
    return seconds, totals


def duckdb_totals_cpu(path):
    """duckdb_totals and the CPU seconds DuckDB's query took, over all its threads."""
    import duckdb
    cpu = own_cpu()
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
    return time.perf_counter() - started, totals, own_cpu() - cpu


def contract_floor(work, export, scratch, runs=3):
    """What the contract's own output costs on this machine, apart from Tally, each figure the
    least of `runs` tries (this VM's writes vary several-fold from one to the next; the figures
    may come from different tries): appending as many
    bytes as Tally's two ledgers hold to new files and fsyncing them (as a ledger is made
    durable), and SHA-256 over as many bytes as the export and `points.jsonl` (the file's hash,
    the award lines' chain). No parsing, deciding or encoding. The bytes written and hashed are
    one MiB over and over, so that reading them back costs nothing. Returns
    {"write_s", "write_cpu", "hash_cpu", "bytes"}: wall and CPU seconds of the writes, CPU
    seconds of the hashing, and the ledgers' size."""
    tries = [_contract_floor(work, export, scratch) for _ in range(runs)]
    return {key: min(t[key] for t in tries) for key in tries[0]}


def _contract_floor(work, export, scratch):
    import hashlib
    block = memoryview(bytes(range(256)) * 4096)   # sliced without a copy
    sizes = [os.path.getsize(os.path.join(work, "data", name)) for name in ("events.jsonl", "points.jsonl")]
    paths = [os.path.join(scratch, f"floor-{n}") for n in range(len(sizes))]
    try:
        cpu, started = own_cpu(), time.perf_counter()
        for path, size in zip(paths, sizes):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
            try:
                left = size
                while left > 0:
                    left -= os.write(fd, block[:min(left, len(block))])
                os.fsync(fd)
            finally:
                os.close(fd)
        write_s, write_cpu = time.perf_counter() - started, own_cpu() - cpu
    finally:
        # Removed outside the timing: freeing the blocks is not a cost Tally pays.
        for path in paths:
            if os.path.exists(path):
                os.unlink(path)
    cpu = own_cpu()
    for size in (os.path.getsize(export), sizes[1]):
        digest = hashlib.sha256()
        for _ in range(size // len(block)):
            digest.update(block)
        digest.update(block[:size % len(block)])
    return {"write_s": write_s, "write_cpu": write_cpu, "hash_cpu": own_cpu() - cpu, "bytes": sum(sizes)}


def tally_totals(work):
    """{student: xp} from the state.json of a Tally work dir."""
    with open(os.path.join(work, "data", "state.json")) as f:
        students = json.load(f)["students"]
    return {email: s["xp"] for email, s in students.items()}


def event_lines(work):
    with open(os.path.join(work, "data", "events.jsonl"), "rb") as f:
        return sum(1 for _ in f)


def fresh_work_dir(root, source, name):
    """A new Tally work dir under `root` whose inbox holds a copy of `source` as `name`
    (any work dir left there by an earlier run is removed first)."""
    work = os.path.join(root, "tally")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "inbox"))
    shutil.copy(source, os.path.join(work, "inbox", name))
    return work


def median_of(runs):
    """The run of median time among runs (tuples whose first item is the seconds), and all the
    times as text."""
    ordered = sorted(runs)
    return ordered[len(ordered) // 2], " / ".join(f"{run[0]:.2f}" for run in runs)


def report_equal(mine, duck):
    """Prints whether Tally's totals equal DuckDB's (and the first differences); exits 1 if not."""
    equal = mine == duck
    print(f"  per-student totals equal to DuckDB's: {'yes' if equal else 'NO'}")
    if not equal:
        differing = [e for e in set(mine) | set(duck) if mine.get(e) != duck.get(e)][:5]
        print("  first differences:", [(e, mine.get(e), duck.get(e)) for e in differing])
        sys.exit(1)
