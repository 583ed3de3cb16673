#!/usr/bin/env python3
"""The Python peer: the same job as `tally sync` on one CSV export, with the csv and json
modules — normalise, dedupe, award 20 LEARN points once per student per course, and write
events.jsonl, points.jsonl (hash-chained), rejected.jsonl and state.json.

Usage: reference.py EXPORT.csv OUTDIR
"""
import csv
import datetime
import hashlib
import json
import os
import sys
import unicodedata


def normalise_email(raw):
    email = unicodedata.normalize("NFC", raw.strip()).lower()
    if email.count("@") != 1:
        return None
    local, domain = email.split("@")
    if not local or "." not in domain or " " in email:
        return None
    if domain in ("gmail.com", "googlemail.com"):
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    return local + "@" + domain


def parse_date(text):
    try:
        return datetime.datetime.strptime(text.strip(), "%m/%d/%Y %H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return None


def main():
    source, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with open(source, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    seen, completed, students = set(), set(), {}
    prev = "0" * 64
    with open(source, newline="", encoding="utf-8-sig") as f, \
            open(os.path.join(out, "events.jsonl"), "w") as events, \
            open(os.path.join(out, "points.jsonl"), "w") as points, \
            open(os.path.join(out, "rejected.jsonl"), "w") as rejected:
        reader = csv.reader(f)
        header = next(reader)
        e_seq = p_seq = r_seq = 0
        for row_number, row in enumerate(reader, start=2):
            email = normalise_email(row[1]) if len(row) > 3 else None
            at = parse_date(row[0]) if len(row) > 3 else None
            if email is None or at is None or not row[3].strip():
                r_seq += 1
                rejected.write(json.dumps({"seq": r_seq, "file": os.path.basename(source), "row": row_number,
                                           "reason": "bad row", "raw": ",".join(row)}) + "\n")
                continue
            course = row[3].strip()
            event_id = "h-" + hashlib.sha256("\x1f".join(["course_completed", email, course, "", str(int(at.timestamp() * 1000))]).encode()).hexdigest()[:32]
            if event_id in seen or (email, course) in completed:
                status = "duplicate"
            else:
                status = "applied"
            seen.add(event_id)
            e_seq += 1
            iso = at.strftime("%Y-%m-%dT%H:%M:%SZ")
            events.write(json.dumps({"seq": e_seq, "id": event_id, "kind": "course_completed", "student": email,
                                     "email": email, "name": row[2].strip(), "course": course, "at": iso,
                                     "source": {"file": os.path.basename(source), "sha256": sha, "row": row_number},
                                     "status": status}) + "\n")
            if status == "applied":
                completed.add((email, course))
                p_seq += 1
                line = json.dumps({"seq": p_seq, "at": iso, "student": email, "points": 20, "activity": "LEARN",
                                   "event": event_id, "reason": "completed " + course, "change": "award",
                                   "course": course, "prev": prev})
                prev = hashlib.sha256(line.encode()).hexdigest()
                points.write(line + "\n")
                student = students.setdefault(email, {"name": row[2].strip(), "xp": 0, "courses": []})
                student["xp"] += 20
                student["courses"].append(course)
    with open(os.path.join(out, "state.json"), "w") as f:
        json.dump({"format": 1, "students": students}, f)


if __name__ == "__main__":
    main()
