#!/usr/bin/env python3
"""Writes the bad-input corpus (issue 16). Run from this directory: `python3 make.py`.
The files are committed; this script says how each was made. `expected.tsv` says what each
must give (see README.md)."""
import json, os, zipfile, io

W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
def ident(first17):
    total = sum(int(d) * w for d, w in zip(first17, W))
    return first17 + "10X98765432"[total % 11]

def household(hid, area, members, wages=0.0, **extra):
    record = {"id": hid, "area_code": area, "members": [
        {"id_number": i, "name": n, "relation": r} for (i, n, r) in members],
        "income_12m": {"wages": wages}}
    record.update(extra)
    return record

def line(record):
    return json.dumps(record, ensure_ascii=False)

A1, A2 = "500151106203", "500151102207"  # villages of the built-in place list
def good(k):
    return household(f"C{k:04d}", A1 if k % 2 else A2,
                     [(ident(f"50022419800101{k:03d}"), f"良{k}", "head")], 1200.5)

def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))

def three(k, bad_line):
    """Line 1 and 3 good, line 2 as given."""
    return (line(good(k)) + "\n" + bad_line + "\n" + line(good(k + 1)) + "\n")

bad = lambda k: good(k)
# ---- household files (safetynet import households FILE), line 2 is the bad one ----
h = {}
r = bad(12); r["members"][0]["name"] = "张\u0000三"; h["nul-in-name"] = three(10, line(r))
r = bad(22); r["id"] = "C\u0001022"; h["control-in-id"] = three(20, line(r))
r = bad(32); r["members"][0]["id_number"] = ident("50022420250230001"); h["impossible-birth-date"] = three(30, line(r))
r = bad(42); r["members"][0]["id_number"] = ident("50022420990101001"); h["future-birth"] = three(40, line(r))
r = bad(52); r["income_12m"]["wages"] = -100; h["negative-money"] = three(50, line(r))
r = bad(62); r["income_12m"]["wages"] = "很多"; h["wrong-type"] = three(60, line(r))
r = bad(72); h["truncated-json"] = three(70, line(r)[:57])
r = bad(82); r["members"][0]["name"] = "长" * 60; h["oversize-name"] = three(80, line(r))
r = bad(92); r["salary"] = 1; h["unknown-field"] = three(90, line(r))
r = bad(102); r["members"][0]["disability"] = {"kind": "hearing", "grade": 9}; h["bad-grade"] = three(100, line(r))
for name, text in h.items():
    write(f"households/{name}.jsonl", text)
# GB18030 bytes on line 2.
write("households/gb18030-line.jsonl",
      (line(good(110)) + "\n").encode() + line(bad(112)).encode("gb18030") + b"\n"
      + (line(good(111)) + "\n").encode())
# Accepted: a UTF-8 BOM at the start.
write("households/bom-accepted.jsonl", b"\xef\xbb\xbf" + (line(good(120)) + "\n" + line(good(121)) + "\n").encode())

# ---- department feeds (POST /api/v1/feeds), the bad row is line 3 (CSV) / 2 (JSON Lines) ----
P1, P2 = ident("50022419800101200"), ident("50022419700303300")
head = "身份证号,姓名,类别,数值,日期,说明\n"
ok1 = f"{P1},张三,wage,3000,2026-06-01,\n"
ok2 = f"{P2},李四,deposit,5000.5,2026-06-02,\n"
f = {
    "nul-in-name.csv": head + ok1 + f"{P2},李\u0000四,wage,3000,2026-06-01,\n" + ok2,
    "control-in-detail.csv": head + ok1 + f"{P2},李四,wage,3000,2026-06-01,说\u0007明\n" + ok2,
    "impossible-date.csv": head + ok1 + f"{P2},李四,wage,3000,2025-02-30,\n" + ok2,
    "month-13.csv": head + ok1 + f"{P2},李四,wage,3000,2025-13,\n" + ok2,
    "negative-money.csv": head + ok1 + f"{P2},李四,deposit,-5000,2026-06-01,\n" + ok2,
    "bad-id.csv": head + ok1 + f"{P2[:17]}0,李四,wage,3000,2026-06-01,\n" + ok2,
    "missing-cell.csv": head + ok1 + f"{P2},李四,wage\n" + ok2,
}
for name, text in f.items():
    write(f"feeds/{name}", text)
write("feeds/bom-gb18030.csv", "\ufeff".encode() + (head + ok1 + ok2).encode())
write("feeds/gb18030-accepted.csv", (head + ok1 + ok2).encode("gb18030"))
write("feeds/gb18030-garbage.csv", (head + ok1).encode("gb18030") + b"\x81\x30\xff\xfe\x80,\xfe\xfe\n")
jl = lambda d: json.dumps(d, ensure_ascii=False) + "\n"
j1 = {"身份证号": P1, "姓名": "张三", "类别": "wage", "数值": 3000, "日期": "2026-06-01"}
j2 = {"身份证号": P2, "姓名": "李四", "类别": "deposit", "数值": "5000.5", "日期": "2026-06-02"}
write("feeds/bom-accepted.jsonl", b"\xef\xbb\xbf" + (jl(j1) + jl(j2)).encode())
write("feeds/nul-in-name.jsonl", jl(j1) + jl(dict(j2, 姓名="李\u0000四")) + jl(j2))
write("feeds/wrong-type.jsonl", jl(j1) + jl(dict(j2, 数值=[1, 2])) + jl(j2))
write("feeds/truncated.jsonl", jl(j1) + jl(j2)[:30] + "\n" + jl(j2))
write("feeds/impossible-date.jsonl", jl(j1) + jl(dict(j2, 日期="2026-02-29")) + jl(j2))
write("feeds/negative-money.jsonl", jl(j1) + jl(dict(j2, 数值=-1)) + jl(j2))
write("feeds/broken.xlsx", b"PK\x03\x04" + b"\x00" * 40 + b"not really a workbook")
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("[Content_Types].xml", "<Types")  # truncated XML inside a real zip
write("feeds/truncated-xml.xlsx", buf.getvalue())
write("feeds/empty.csv", b"")

# ---- API bodies (POST /api/v1/households as the town reviewer); AREA is replaced ----
def api_body(k):
    return household(f"API{k:03d}", "AREA", [(ident(f"50022419850101{k:03d}"), f"甲{k}", "head")], 100.0)
b = {}
r = api_body(1); r["members"][0]["name"] = "甲\u0000"; b["nul-in-name.json"] = json.dumps(r, ensure_ascii=False)
r = api_body(2); r["income_12m"]["wages"] = "一百"; b["wrong-type.json"] = json.dumps(r, ensure_ascii=False)
r = api_body(3); b["truncated.json"] = json.dumps(r, ensure_ascii=False)[:40]
r = api_body(4); r["income_12m"]["wages"] = -1; b["negative-money.json"] = json.dumps(r, ensure_ascii=False)
r = api_body(5); r["members"][0]["id_number"] = ident("50022420990101005"); b["future-birth.json"] = json.dumps(r, ensure_ascii=False)
r = api_body(6); r["members"][0]["name"] = "乙" * 80; b["oversize-name.json"] = json.dumps(r, ensure_ascii=False)
r = api_body(7); r["members"] = "none"; b["members-not-a-list.json"] = json.dumps(r, ensure_ascii=False)
r = api_body(8); r["members"][0]["disability"] = {"kind": "hearing", "grade": -1}; b["negative-grade.json"] = json.dumps(r, ensure_ascii=False)
for name, text in b.items():
    write(f"api/households/{name}", text)
