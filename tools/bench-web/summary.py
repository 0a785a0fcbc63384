"""Prints locust's per-route statistics (p50/p95/p99 in ms, requests/s, errors) as a table.

usage: summary.py RUN_stats.csv LABEL
"""

import csv
import sys

path, label = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(path, encoding="utf-8")))
print(f"\n== {label} ==")
print(f"{'route':34} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'req/s':>6}")
for r in rows:
    name = r["Name"] if r["Name"] != "Aggregated" else "ALL"
    print(
        f"{(r['Type'] + ' ' + name) if name != 'ALL' else 'ALL':34.34} {r['Request Count']:>8} {r['Failure Count']:>6} "
        f"{r['50%']:>7} {r['95%']:>7} {r['99%']:>7} {float(r['Max Response Time']):>7.0f} {float(r['Requests/s']):>6.1f}"
    )
