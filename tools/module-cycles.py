#!/usr/bin/env python3
"""Import circles between the top-level modules of each crate (issue 17 item 5).

For every crate under crates/, reads src/**/*.rs and draws an edge A -> B when a file of
module A names module B through `crate::B…` (in a `use` tree or inline) or through `super::`
climbing up to the crate root. A module is a top-level file and its directory together
(`cases.rs` + `cases/` = `cases`); the crate root (lib.rs / main.rs) is not a module, but a
name it re-exports (`pub use cases::Case;`) counts as the module it comes from, so
`crate::Case` is an edge to `cases`. Prints every strongly connected component of more than
one module with the edges that close it (file:line of the first reference), and exits 1 when
there is one. An askama template (`#[template(path = "x.html")]`, under the crate's
`templates/`, with what it includes or extends) counts as part of the module that names it,
since its `crate::…` calls compile there. Usage: tools/module-cycles.py [crates-dir]
"""

import re
import sys
from pathlib import Path

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip_comments_and_strings(text):
    """Blank out comments, string and char literals, keeping line breaks (for line numbers)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            end = n if end < 0 else end + 1 + len(hashes)
            out.append('""' + "\n" * text.count("\n", i, end))
            i = end
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:i + 4]) or text.startswith("'\\u{", i):
            j = text.find("'", i + 1 if text[i + 1] != "\\" else i + 3)
            i = j + 1
            out.append("' '")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def split_top(tree):
    """Split a use tree's brace contents at top-level commas."""
    parts, depth, cur = [], 0, []
    for ch in tree:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def first_segments(tree):
    """The first path segment of each branch of a use tree (`{a::b, c}` -> a, c)."""
    tree = tree.strip()
    if tree.startswith("{") and tree.endswith("}"):
        return [seg for part in split_top(tree[1:-1]) for seg in first_segments(part)]
    m = re.match(IDENT, tree)
    return [m.group(0)] if m else []


def module_of(path, src):
    """(top-level module name, depth of the file's module below the root) or (None, 0) for the root."""
    rel = path.relative_to(src)
    parts = list(rel.parts)
    if len(parts) == 1 and parts[0] in ("lib.rs", "main.rs"):
        return None, 0
    parts[-1] = parts[-1][:-3]
    if parts[-1] == "mod":
        parts.pop()
    return parts[0], len(parts)


def root_reexports(root_text, modules):
    """Names the crate root re-exports from a module: name -> module."""
    names = {}
    for m in re.finditer(r"pub(?:\([^)]*\))?\s+use\s+(" + IDENT + r")::(.*?);", root_text, re.S):
        module, rest = m.group(1), m.group(2)
        if module not in modules:
            continue
        for leaf in re.findall(r"(" + IDENT + r")\s*(?:as\s+(" + IDENT + r"))?\s*(?=[,}]|$)", rest):
            names[leaf[1] or leaf[0]] = module
    return names


def templates_of(raw, templates):
    """The templates a module's `#[template(path = "…")]` attributes name, with what they
    include, extend or import, transitively."""
    todo = re.findall(r'#\[template\([^)]*?\bpath\s*=\s*"([^"]+)"', raw)
    seen = []
    while todo:
        name = todo.pop()
        if name in seen or not (templates / name).is_file():
            continue
        seen.append(name)
        body = (templates / name).read_text()
        todo += re.findall(r'\{%-?\s*(?:include|extends|import)\s+"([^"]+)"', body)
    return seen


def crate_graph(src):
    files = sorted(src.rglob("*.rs"))
    modules = set()
    for path in files:
        name, _ = module_of(path, src)
        if name:
            modules.add(name)
    root = next((src / r for r in ("lib.rs", "main.rs") if (src / r).exists()), None)
    reexports = root_reexports(strip_comments_and_strings(root.read_text()), modules) if root else {}

    def resolve(segment):
        if segment in modules:
            return segment
        return reexports.get(segment)

    edges = {}
    for path in files:
        source, depth = module_of(path, src)
        if not source:
            continue
        raw = path.read_text()
        text = strip_comments_and_strings(raw)

        def add(target, offset):
            if target and target != source:
                line = text.count("\n", 0, offset) + 1
                edges.setdefault((source, target), f"{path}:{line}")

        # `use crate::{…}` / `use crate::x…` trees, and `use super::…` reaching the root.
        for m in re.finditer(r"\buse\s+((?:crate|(?:super\s*::\s*)+)\s*::?\s*)(.*?);", text, re.S):
            head, tree = m.group(1), m.group(2)
            ups = head.count("super")
            if head.startswith("crate") or ups >= depth:
                for segment in first_segments(tree):
                    add(resolve(segment), m.start())
        # Inline paths: `crate::x::f()`, `super::super::x::T` (outside `use`, which is done above).
        for m in re.finditer(r"(?<![A-Za-z0-9_:])crate\s*::\s*(" + IDENT + r")", text):
            add(resolve(m.group(1)), m.start())
        for m in re.finditer(r"(?<![A-Za-z0-9_:])((?:super\s*::\s*)+)(" + IDENT + r")", text):
            if m.group(1).count("super") >= depth:
                add(resolve(m.group(2)), m.start())
        # Templates compiled into this module: their `crate::x` calls are this module's.
        for name in templates_of(raw, src.parent / "templates"):
            template = src.parent / "templates" / name
            body = template.read_text()
            for m in re.finditer(r"(?<![A-Za-z0-9_:])crate\s*::\s*(" + IDENT + r")", body):
                target = resolve(m.group(1))
                if target and target != source:
                    line = body.count("\n", 0, m.start()) + 1
                    edges.setdefault((source, target), f"{template}:{line}")
    return modules, edges


def strongly_connected(nodes, edges):
    """Tarjan's components, each sorted, in a stable order."""
    succ = {n: sorted(b for (a, b) in edges if a == n) for n in nodes}
    index, low, on_stack, stack, comps = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for n in sorted(nodes):
        if n not in index:
            visit(n)
    return sorted(comps)


def main():
    crates = Path(sys.argv[1] if len(sys.argv) > 1 else "crates")
    found = 0
    for src in sorted(crates.glob("*/src")):
        modules, edges = crate_graph(src)
        for comp in strongly_connected(modules, edges):
            if len(comp) < 2:
                continue
            found += 1
            print(f"{src.parent.name}: import circle between {', '.join(comp)}")
            for (a, b), where in sorted(edges.items()):
                if a in comp and b in comp:
                    print(f"  {a} -> {b}   ({where})")
    if found:
        print(f"{found} import circle(s) inside crates: move what both sides need into a module below them")
        return 1
    print("no import circle inside any crate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
