#!/usr/bin/env python3
"""Extracts every ```cpp block of README.md and docs/*.md into translation units, so that the
docs_snippets test compiles (and, where they are programs, runs) them: docs that stop compiling
fail the test.

How a block is compiled is chosen by an HTML comment on the line before its fence (blank lines
between them are allowed); markdown renderers do not show it.

  (no marker)                   a whole translation unit, compiled as it is. When it defines
                                main() it is linked and run, and must exit 0.
  <!-- snippet: file norun -->  the same, linked but not run (it needs the network, a key ...).
  <!-- snippet: body NAME... --> a fragment: the statements of a function body. The blocks of
                                one document go into one translation unit, each in a function of
                                its own namespace; #include lines are moved to the top. NAMEs
                                are variables the fragment uses without declaring them (see
                                GIVENS below), and `run`, which calls the function from main()
                                (it must return 0: blocks may `assert`, NDEBUG is undefined).
                                Without `run` the fragment is compiled and linked, not run.
  <!-- snippet: skip REASON --> not compiled at all; only for text that truly cannot be (rare).

A marker this script does not understand becomes an #error in the generated code, so the test
fails and says where. Compiler diagnostics point at the markdown file and line (#line).

Usage: extract_snippets.py --root SRC --out DIR DOC.md...
Writes DIR/*.cpp (only when changed, so nothing is rebuilt for nothing) and DIR/snippets.cmake,
which sets phrony_doc_units to a list of "name|source|how" entries; how is 1 for a program to
run, 0 for a program only linked, 2 for a unit only compiled (no main).
"""

import argparse
import os
import re
import sys

# Variables a `body` fragment may use without declaring them: name -> (includes, declaration).
GIVENS = {
    "agent_id": ([], 'const std::string agent_id = "7f1c2a3e-5b6d-4e8f-9a0b-1c2d3e4f5a6b";'),
    "run_id": ([], 'const std::string run_id = "0b7e3c1d-2a4f-4d6e-8b9c-7d8e9f0a1b2c";'),
    "cfg": (["<phrony/request.hpp>"],
            'const phrony::api_config cfg{"https://api.phrony.com", "phk_docs_example"};'),
    "api": (['"transports/curl_transport.hpp"', "<phrony/client.hpp>"],
            "phrony::client api(phrony_examples::curl_transport{},\n"
            '                   phrony::api_config{"http://127.0.0.1:9", "phk_docs_example"});'),
}

# What every body translation unit includes first.
PRELUDE = [
    "<cassert>", "<chrono>", "<cstdint>", "<cstdlib>", "<iostream>", "<optional>", "<string>",
    "<string_view>", "<utility>", "<vector>",
]

MARKER = re.compile(r"^\s*<!--\s*snippet:\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([A-Za-z0-9_+-]*)")
INCLUDE = re.compile(r"^\s*#\s*include\s+(\S+)")
MAIN = re.compile(r"\bint\s+main\s*\(")


def blocks(path):
    """(marker or None, first line number of the code, code lines) for each ```cpp block."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang = m.group(2), m.group(3).lower()
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        if lang in ("cpp", "c++", "cxx"):
            marker = None
            k = i - 1
            while k >= 0 and not lines[k].strip():
                k -= 1
            if k >= 0:
                mm = MARKER.match(lines[k])
                if mm:
                    marker = mm.group(1)
            yield marker, i + 2, lines[i + 1:j]
        i = j + 1


def cxx_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_if_changed(path, text):
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("docs", nargs="+")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    units = []  # (name, file, run)
    counts = {"file": 0, "body": 0, "skip": 0}
    for doc in args.docs:
        rel = os.path.relpath(doc, args.root).replace(os.sep, "/")
        stem = re.sub(r"[^A-Za-z0-9]+", "_", rel.rsplit(".", 1)[0]).strip("_").lower()
        shown = os.path.abspath(doc).replace(os.sep, "/")  # for #line: editors jump to it
        bodies = []  # (line, names, run, code lines)
        for marker, line, code in blocks(doc):
            words = (marker or "file").split()
            kind = words[0]
            name = f"{stem}_{line}"
            if kind == "skip":
                counts["skip"] += 1
                if len(words) < 2:
                    units.append((name, error_unit(args.out, name, shown, line, "skip needs a reason"), 2))
                continue
            if kind == "file" and all(w == "norun" for w in words[1:]):
                counts["file"] += 1
                # A Release build's -DNDEBUG must not turn the blocks' checks off.
                text = (f"#undef NDEBUG // the blocks' asserts are their checks\n"
                        f"#line {line} {cxx_string(shown)}\n" + "\n".join(code) + "\n")
                path = os.path.join(args.out, name + ".cpp")
                write_if_changed(path, text)
                has_main = any(MAIN.search(c) for c in code)
                runs = has_main and "norun" not in words
                units.append((name, path, 1 if runs else (0 if has_main else 2)))
                continue
            bad = [w for w in words[1:] if w != "run" and w not in GIVENS]
            if kind != "body" or bad:
                what = f"unknown snippet marker '<!-- snippet: {marker} -->'"
                units.append((name, error_unit(args.out, name, shown, line - 1, what), 2))
                continue
            counts["body"] += 1
            bodies.append((line, [w for w in words[1:] if w in GIVENS], "run" in words[1:], code))
        if bodies:
            path = os.path.join(args.out, stem + "_bodies.cpp")
            write_if_changed(path, body_unit(bodies, shown))
            units.append((stem + "_bodies", path, 1))

    manifest = ["# Generated by extract_snippets.py; do not edit.", "set(phrony_doc_units"]
    for name, path, run in units:
        manifest.append(f'  "{name}|{path.replace(os.sep, "/")}|{run}"')
    manifest.append(")")
    manifest.append(
        f'set(phrony_doc_counts "{counts["file"]} whole, {counts["body"]} fragments, '
        f'{counts["skip"]} skipped")')
    write_if_changed(os.path.join(args.out, "snippets.cmake"), "\n".join(manifest) + "\n")
    return 0


def error_unit(out_dir, name, shown, line, what):
    path = os.path.join(out_dir, name + ".cpp")
    write_if_changed(path, f"#line {line} {cxx_string(shown)}\n#error {cxx_string(what)}\n")
    return path


def body_unit(bodies, shown):
    includes = list(PRELUDE)
    for _, names, _, code in bodies:
        for n in names:
            includes += GIVENS[n][0]
        for c in code:
            m = INCLUDE.match(c)
            if m:
                includes.append(m.group(1))
    seen = set()
    out = ["// Generated by tests/docs/extract_snippets.py from " + shown + "; do not edit.",
           "#undef NDEBUG // the fragments' asserts are their checks"]
    for inc in includes:
        if inc not in seen:
            seen.add(inc)
            out.append(f"#include {inc}")
    for line, names, _, code in bodies:
        out.append("")
        out.append(f"namespace snippet_{line} {{")
        out.append("[[maybe_unused]] int block() {")
        for n in names:
            out.append(GIVENS[n][1])
        out.append(f"#line {line} {cxx_string(shown)}")
        for c in code:
            out.append("" if INCLUDE.match(c) else c)  # kept as blank lines: #line stays right
        out.append("  return 0;")
        out.append("}")
        out.append(f"}} // namespace snippet_{line}")
    out.append("")
    out.append("int main() {")
    out.append("  int failed = 0;")
    for line, _, run, _ in bodies:
        if run:
            out.append(f"  if (snippet_{line}::block() != 0) {{")
            out.append(f'    std::cerr << "{os.path.basename(shown)}:{line}: the block returned nonzero\\n";')
            out.append("    ++failed;")
            out.append("  }")
    out.append("  return failed;")
    out.append("}")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
