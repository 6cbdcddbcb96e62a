#!/usr/bin/env python3
"""Checks that the top-level modules of a Rust crate depend on each other
without cycles.

    scripts/check-module-cycles.py [SRC]      # default: crates/host/src
    scripts/check-module-cycles.py --self-test

Each file and folder directly under SRC is a top-level module (`host.rs` is
`host`, `store/` is `store`; `lib.rs` and `main.rs` are the crate root, not
modules). A module depends on B wherever any of its files names `crate::B`:
in `use crate::b::...`, in grouped imports (`use crate::{b, c::{d, e}}`, over
several lines too), in paths in code, and in doc comments and intra-doc links
(`[`X`](crate::b::X)`): a doc link is a dependency too. Plain comments and
string literals name nothing. Test code does not count: the item after
`#[cfg(test)]` (usually `mod tests { ... }`, matched brace by brace with the
braces of strings, chars and comments left out; a `mod tests;` skips its
file), files starting with `#![cfg(test)]`, and files under a `tests/`
folder. `crate::b` inside b is no edge, nor is `crate::X` for an X that is not
a top-level module (an item the crate root re-exports).

It prints every edge, then either `no cycle between the N top-level modules`
(exit 0) or, for each strongly connected component of more than one module,
a cycle through it and the edges inside it with the file and line where each
is first named (exit 1).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections import deque
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SRC = REPO / "crates" / "host" / "src"

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
CHAR_LITERAL = re.compile(
    r"'(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F_]{1,6}\}|.)|[^\\'\n\r\t])'"
)
CFG_TEST = re.compile(r"#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]")
INNER_CFG_TEST = re.compile(r"#\s*!\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]")
LEADING_INNER_ATTRS = re.compile(r"\s*(?:#\s*!\s*\[[^\]]*\]\s*)*")
CRATE_PATH = re.compile(r"(?<![A-Za-z0-9_])crate\s*::\s*")
MOD_DECL = re.compile(r"\s*(?:pub\s*(?:\([^)]*\))?\s*)?mod\s+([A-Za-z_][A-Za-z0-9_]*)\s*;")


def _blank(chars: list[str], start: int, end: int) -> None:
    """Spaces over chars[start:end], keeping line breaks (and so lines)."""
    for i in range(start, end):
        if chars[i] != "\n":
            chars[i] = " "


def mask(text: str) -> tuple[str, str]:
    """Two copies of `text`, as long as it and with the same lines: `code`,
    with every comment and every string and char literal blanked, and
    `scan`, which keeps the text of doc comments (not their `///` marks)."""
    code = list(text)
    scan = list(text)
    n = len(text)
    i = 0

    def ident_char(j: int) -> bool:
        return 0 <= j < n and (text[j].isalnum() or text[j] == "_")

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            doc = (text.startswith("///", i) and not text.startswith("////", i)) or text.startswith("//!", i)
            _blank(code, i, end)
            if doc:
                _blank(scan, i, i + 3)
            else:
                _blank(scan, i, end)
            i = end
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            doc = (
                text.startswith("/**", i)
                and not text.startswith("/***", i)
                and not text.startswith("/**/", i)
            ) or text.startswith("/*!", i)
            _blank(code, i, j)
            if doc:
                _blank(scan, i, i + 3)
                _blank(scan, max(i + 3, j - 2), j)
            else:
                _blank(scan, i, j)
            i = j
        elif c == "r" and not ident_char(i - 1) or (
            c in "bc" and text.startswith("r", i + 1) and not ident_char(i - 1)
        ):
            # Maybe a raw string: r"..", r#".."#, br"..", cr#".."#.
            j = i + (2 if c in "bc" else 1)
            hashes = 0
            while j < n and text[j] == "#":
                hashes, j = hashes + 1, j + 1
            if j < n and text[j] == '"':
                close = '"' + "#" * hashes
                end = text.find(close, j + 1)
                end = n if end < 0 else end + len(close)
                _blank(code, i, end)
                _blank(scan, i, end)
                i = end
            else:
                i += 1
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            end = min(j + 1, n)
            _blank(code, i, end)
            _blank(scan, i, end)
            i = end
        elif c == "'":
            m = CHAR_LITERAL.match(text, i)
            if m:
                _blank(code, i, m.end())
                _blank(scan, i, m.end())
                i = m.end()
            else:
                i += 1  # a lifetime or a label
        else:
            i += 1
    return "".join(code), "".join(scan)


def _item_end(code: str, i: int) -> int:
    """The end of the item starting at or after `i` in `code` (attributes
    first, then up to a `;` or a `{ ... }` outside parentheses and
    brackets)."""
    n = len(code)
    depth = 0
    while i < n:
        c = code[i]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == ";" and depth <= 0:
            return i + 1
        elif c == "{" and depth <= 0:
            braces, j = 1, i + 1
            while j < n and braces:
                if code[j] == "{":
                    braces += 1
                elif code[j] == "}":
                    braces -= 1
                j += 1
            return j
        i += 1
    return n


def strip_tests(code: str, scan: str) -> tuple[str, str, list[str], bool]:
    """`code` and `scan` without the items under `#[cfg(test)]`; the names
    of the `mod NAME;` among them (test modules in their own files); and
    whether the whole file is test code (`#![cfg(test)]` at its start)."""
    m = INNER_CFG_TEST.search(code)
    if m and LEADING_INNER_ATTRS.fullmatch(code[: m.start()]):
        return "", "", [], True
    c, s = list(code), list(scan)
    test_mods = []
    pos = 0
    while True:
        m = CFG_TEST.search(code, pos)
        if not m:
            break
        end = _item_end(code, m.end())
        decl = MOD_DECL.match(re.sub(r"#\s*\[[^\]]*\]", "", code[m.end() : end]))
        if decl:
            test_mods.append(decl.group(1))
        _blank(c, m.start(), end)
        _blank(s, m.start(), end)
        pos = end
    return "".join(c), "".join(s), test_mods, False


def named_modules(scan: str) -> list[tuple[str, int]]:
    """Each name that follows `crate::` (each first name in a group
    `crate::{a, b::c}`), with the offset where it appears."""
    found = []
    for m in CRATE_PATH.finditer(scan):
        i = m.end()
        if i < len(scan) and scan[i] == "{":
            depth, j, expect_name = 1, i + 1, True
            while j < len(scan) and depth:
                ch = scan[j]
                if ch == "{":
                    depth += 1
                    j += 1
                elif ch == "}":
                    depth -= 1
                    j += 1
                elif ch == "," and depth == 1:
                    expect_name = True
                    j += 1
                elif ch.isspace():
                    j += 1
                else:
                    word = IDENT.match(scan, j)
                    if expect_name and depth == 1 and word:
                        found.append((word.group(), j))
                    expect_name = False
                    j = word.end() if word else j + 1
        else:
            word = IDENT.match(scan, i)
            if word:
                found.append((word.group(), i))
    return found


def modules(src: Path) -> dict[str, list[Path]]:
    """Each top-level module and its files (not under a `tests/` folder)."""
    mods: dict[str, list[Path]] = {}
    for entry in sorted(src.iterdir()):
        if entry.is_file() and entry.suffix == ".rs" and entry.name not in ("lib.rs", "main.rs"):
            mods.setdefault(entry.stem, []).append(entry)
        elif entry.is_dir():
            files = [
                f
                for f in sorted(entry.rglob("*.rs"))
                if "tests" not in f.relative_to(src).parts[:-1]
            ]
            if files:
                mods.setdefault(entry.name, []).extend(files)
    # A folder's `mod.rs` before its siblings: where an edge is first named
    # is then the module's root file if it names it.
    order = lambda f: (f.parent.parts, f.name != "mod.rs", f.name)
    return {name: sorted(files, key=order) for name, files in mods.items()}


def _child_paths(file: Path, name: str) -> list[Path]:
    """Where `mod name;` in `file` finds its source."""
    if file.name in ("mod.rs", "lib.rs", "main.rs"):
        base = file.parent
    else:
        base = file.parent / file.stem
    return [base / f"{name}.rs", base / name]


def edges(src: Path) -> tuple[list[str], dict[tuple[str, str], tuple[Path, int]]]:
    """The top-level modules, and each edge with where it is first named."""
    mods = modules(src)
    parsed = {}
    skipped: list[Path] = []
    for files in mods.values():
        for f in files:
            code, scan = mask(f.read_text(encoding="utf-8"))
            _, scan, test_mods, whole = strip_tests(code, scan)
            parsed[f] = "" if whole else scan
            for name in test_mods:
                skipped.extend(_child_paths(f, name))
    found: dict[tuple[str, str], tuple[Path, int]] = {}
    for module, files in sorted(mods.items()):
        for f in files:
            if any(f == p or p in f.parents for p in skipped):
                continue
            scan = parsed[f]
            for name, offset in named_modules(scan):
                if name == module or name not in mods:
                    continue
                line = scan.count("\n", 0, offset) + 1
                found.setdefault((module, name), (f, line))
    return sorted(mods), found


def tarjan(nodes: list[str], succ: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in succ.get(v, []):
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
            out.append(sorted(comp))

    sys.setrecursionlimit(max(1000, 10 * len(nodes) + 100))
    for v in nodes:
        if v not in index:
            visit(v)
    return out


def shortest_cycle(start: str, comp: set[str], succ: dict[str, list[str]]) -> list[str]:
    """A shortest cycle from `start` back to it within `comp`."""
    prev: dict[str, str] = {}
    queue = deque([start])
    seen = {start}
    while queue:
        v = queue.popleft()
        for w in succ.get(v, []):
            if w not in comp:
                continue
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(prev[path[-1]])
                return [start] + path[::-1][1:] + [start] if v != start else [start, start]
            if w not in seen:
                seen.add(w)
                prev[w] = v
                queue.append(w)
    return [start]


def shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        try:
            return str(path.resolve().relative_to(REPO))
        except ValueError:
            return str(path)


def check(src: Path) -> tuple[int, str]:
    """The report for the crate at `src`, and the exit code."""
    nodes, found = edges(src)
    lines = [f"{a} -> {b}" for a, b in sorted(found)]
    succ: dict[str, list[str]] = {}
    for a, b in sorted(found):
        succ.setdefault(a, []).append(b)
    knots = sorted((c for c in tarjan(nodes, succ) if len(c) > 1), key=lambda c: c[0])
    if not knots:
        lines.append(f"no cycle between the {len(nodes)} top-level modules")
        return 0, "\n".join(lines) + "\n"
    for comp in knots:
        members = set(comp)
        lines.append("")
        lines.append(f"cycle: {' -> '.join(shortest_cycle(comp[0], members, succ))}")
        inside = [(a, b) for a, b in sorted(found) if a in members and b in members]
        lines.append(
            f"  {len(comp)} of the {len(nodes)} modules ({', '.join(comp)}), "
            f"{len(inside)} edges between them:"
        )
        width = max(len(f"{a} -> {b}") for a, b in inside)
        for a, b in inside:
            f, line = found[(a, b)]
            lines.append(f"  {f'{a} -> {b}':<{width}}  {shown(f)}:{line}")
    return 1, "\n".join(lines) + "\n"


# --- self-test -----------------------------------------------------------

FIXTURES = {
    "grouped-import-cycle": {
        "lib.rs": "mod a;\nmod b;\nmod c;\npub use a::Thing;\n",
        "a.rs": (
            "use crate::{\n"
            "    b::{self, Other},\n"
            "    c,\n"
            "};\n"
            "pub struct Thing;\n"
        ),
        "b.rs": "pub struct Other;\npub fn f() -> crate::Thing {\n    crate::a::Thing\n}\n",
        "c.rs": "pub fn g() {}\n",
    },
    "doc-link-cycle": {
        "lib.rs": "mod a;\nmod b;\n",
        "a.rs": "use crate::b::Gadget;\npub struct Widget(Gadget);\n",
        "b.rs": (
            "// A plain comment naming crate::nothing is no edge.\n"
            "/// Goes into a [`Widget`](crate::a::Widget).\n"
            "pub struct Gadget;\n"
        ),
    },
    "cfg-test-only": {
        "lib.rs": "mod a;\nmod b;\nmod d;\n",
        "a.rs": "pub use crate::b::f;\npub use crate::d::h;\n",
        "b.rs": (
            "pub fn f<'a>(s: &'a str) -> &'a str { s }\n"
            "\n"
            "#[cfg(test)]\n"
            "#[allow(unused)]\n"
            "mod tests {\n"
            "    fn braces() {\n"
            '        let s = "}";\n'
            "        let c = '}';\n"
            "        let r = r#\"}\"#;\n"
            "        // }\n"
            "        /* } /* } */ } */\n"
            "    }\n"
            "    use crate::a::f;\n"
            "}\n"
            "\n"
            "pub fn after() {}\n"
        ),
        "d/mod.rs": (
            "#[cfg(test)]\n"
            "mod helpers;\n"
            "pub fn h() {}\n"
        ),
        "d/helpers.rs": "use crate::a::f;\n",
        "d/tests/util.rs": "use crate::a::f;\n",
    },
    "acyclic": {
        "lib.rs": "mod a;\nmod b;\nmod c;\npub use c::Thing;\n",
        "a.rs": "use crate::b;\nfn x() { b::y() }\n",
        "b.rs": "pub fn y() { let _ = crate::c::Thing; }\n",
        "c.rs": (
            "pub struct Thing;\n"
            "const S: &str = \"crate::a::x\";\n"
            "// see crate::a\n"
            "fn me() -> crate::c::Thing { crate::Thing }\n"
        ),
    },
}

# What each fixture must give: the exit code and lines the report must hold
# and must not hold.
EXPECT = {
    "grouped-import-cycle": (
        1,
        ["a -> b", "a -> c", "b -> a", "cycle: a -> b -> a", "a -> b  src/a.rs:2", "b -> a  src/b.rs:3"],
        ["c -> ", "no cycle"],
    ),
    "doc-link-cycle": (1, ["cycle: a -> b -> a", "b -> a  src/b.rs:2"], ["nothing", "no cycle"]),
    "cfg-test-only": (
        0,
        ["a -> b", "a -> d", "no cycle between the 3 top-level modules"],
        ["b -> a", "d -> a", "cycle:"],
    ),
    "acyclic": (
        0,
        ["a -> b\nb -> c\nno cycle between the 3 top-level modules\n"],
        ["c -> a", "c -> c", "cycle:"],
    ),
}


def self_test() -> int:
    wrong = 0
    with tempfile.TemporaryDirectory(prefix="module-cycles-") as tmp:
        for name, files in FIXTURES.items():
            src = Path(tmp) / name / "src"
            for rel, text in files.items():
                (src / rel).parent.mkdir(parents=True, exist_ok=True)
                (src / rel).write_text(text, encoding="utf-8")
            run = subprocess.run(
                [sys.executable, __file__, str(src)],
                cwd=src.parent,
                capture_output=True,
                text=True,
            )
            code, must, must_not = EXPECT[name]
            problems = []
            if run.returncode != code:
                problems.append(f"exit {run.returncode}, expected {code}")
            problems += [f"no `{s}`" for s in must if s not in run.stdout]
            problems += [f"has `{s}`" for s in must_not if s in run.stdout]
            if run.stderr:
                problems.append(f"stderr: {run.stderr.strip()}")
            if problems:
                wrong += 1
                print(f"FAIL {name}: {'; '.join(problems)}")
                print("  " + run.stdout.replace("\n", "\n  ").rstrip())
            else:
                print(f"ok   {name} (exit {code})")
    if wrong:
        print(f"self-test: {wrong} of {len(FIXTURES)} fixtures judged wrongly")
        return 1
    print(f"self-test: all {len(FIXTURES)} fixtures judged right")
    return 0


def main(argv: list[str]) -> int:
    if argv == ["--self-test"]:
        return self_test()
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    src = Path(argv[0]) if argv else DEFAULT_SRC
    if not src.is_dir():
        print(f"{src}: not a folder", file=sys.stderr)
        return 2
    code, report = check(src)
    sys.stdout.write(report)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
