#!/usr/bin/env python3
"""Writes a reproducible Google-Forms-style export: N rows, N/10 students, 20 courses,
with the repeats of a cumulative daily export (a third of the rows are earlier rows again).

Usage: generate_export.py PATH [--rows N] [--seed S]
"""
import argparse
import datetime
import random


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    students = max(1, args.rows // 10)
    courses = [f"Course {c:02d}: Practical Skills for Teams" for c in range(20)]
    start = datetime.datetime(2024, 1, 1, 8, 0, 0)
    written = []
    with open(args.path, "w", newline="") as out:
        out.write("Timestamp,Email Address,Full name,Course,Certificate link,How did you hear about us?\n")
        for n in range(args.rows):
            if written and rng.random() < 0.33:
                line = written[rng.randrange(len(written))]
            else:
                s = rng.randrange(students)
                when = start + datetime.timedelta(seconds=n * 29)
                email = f"Student.{s:06d}+forms@Gmail.com" if s % 7 == 0 else f"student{s:06d}@school.example.org"
                line = (f"{when.month}/{when.day}/{when.year} {when.hour}:{when.minute:02d}:{when.second:02d},"
                        f"{email},Student {s:06d} Lastname,{courses[rng.randrange(20)]},"
                        f"https://certs.example.org/{s:06d}/{n},\"Newsletter, then a friend\"")
                if len(written) < 200_000:
                    written.append(line)
            out.write(line + "\n")


if __name__ == "__main__":
    main()
