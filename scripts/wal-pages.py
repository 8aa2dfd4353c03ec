#!/usr/bin/env python3
"""Which tables and indexes a SQLite WAL's frames wrote, and how many per commit.

Usage: scripts/wal-pages.py DATABASE [WAL]   (WAL defaults to DATABASE-wal)

Read it after a load run whose server was killed with SIGKILL, so that the
WAL still holds the frames written since its last checkpoint: each frame is
one page of one commit. Pages are named from a copy of the database file
(`dbstat`); pages the file does not have yet (new since the checkpoint)
show as `(new)`. scripts/callgrind-load.sh and wayfare-loadgen say how much
work a build does; this says where its writes go.
"""
import collections
import shutil
import sqlite3
import struct
import sys
import tempfile


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    database = sys.argv[1]
    wal = sys.argv[2] if len(sys.argv) == 3 else database + "-wal"
    data = open(wal, "rb").read()
    if len(data) < 32:
        print(f"{wal}: no WAL header", file=sys.stderr)
        return 1
    page_size = struct.unpack(">I", data[8:12])[0]
    pages, commits, offset = [], 0, 32
    while offset + 24 + page_size <= len(data):
        page, commit = struct.unpack(">II", data[offset : offset + 8])
        pages.append(page)
        commits += commit != 0
        offset += 24 + page_size
    with tempfile.NamedTemporaryFile(suffix=".db") as copy:
        shutil.copyfile(database, copy.name)
        db = sqlite3.connect(copy.name)
        names = dict(db.execute("SELECT pageno, name FROM dbstat"))
    counts = collections.Counter(names.get(p, "(new)") for p in pages)
    print(f"{len(pages)} frames, {commits} commits, {len(pages) / max(commits, 1):.1f} pages a commit")
    for name, n in counts.most_common():
        print(f"{n:8d} {n / max(commits, 1):6.1f}/commit  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
