"""Writes households.json for the locustfile: for each seeded user's village (or town, or the
district), up to 60 households (internal id, household number) it may open.

usage: fixtures.py sqlite PATH.db USERS.csv OUT.json
       fixtures.py postgres URL USERS.csv OUT.json
"""

import csv
import json
import subprocess
import sqlite3
import sys

backend, db, users_csv, out = sys.argv[1:5]
with open(users_csv, encoding="utf-8") as f:
    areas = sorted({row["area"][:12] for row in csv.DictReader(f)})
SQL = "SELECT id, external_id FROM households WHERE area_code >= '{lo}' AND area_code < '{lo}:' ORDER BY id LIMIT 60"
result = {}
if backend == "sqlite":
    conn = sqlite3.connect(db)
    for area in areas:
        result[area] = conn.execute(SQL.format(lo=area)).fetchall()
else:
    for area in areas:
        out_text = subprocess.run(["psql", db, "-At", "-F", ",", "-c", SQL.format(lo=area)], check=True, capture_output=True, text=True).stdout
        result[area] = [[int(line.split(",")[0]), line.split(",")[1]] for line in out_text.splitlines() if line]
with open(out, "w", encoding="utf-8") as f:
    json.dump(result, f)
print(f"households of {len(result)} areas", file=sys.stderr)
