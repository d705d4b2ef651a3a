#!/usr/bin/env python3
"""Write mistyped variants of the profile_parse seeds into a corpus folder.

Every `key = value` line of each seed profile is rewritten with each other kind of TOML value
(strings, integers in and out of range, floats, booleans, the four date-time kinds, arrays,
arrays of tables, inline tables), or left out; so is every value inside an inline table
(`title = { en = ..., ja = ... }`) and every element of an array; every table gets an unknown
key; every table header `[t]` becomes `[[t]]` and back; every table, or list of tables, is left
out or given as a plain value (`t = 1`). Each variant reaches one error path of a derived
`Deserialize` (a value of the wrong type, a missing or unknown field, a table where a list is
wanted), which random mutation finds only one at a time, slowly. libFuzzer keeps the variants
that add coverage.

    python3 fuzz/profile_variants.py fuzz/corpus/profile_parse

Standard library only; the file names are the SHA-1 of the content, like libFuzzer's own.
"""

import hashlib
import os
import re
import sys

SEEDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds", "profile_parse")
VALUES = ['"x"', '""', "'x'", '"""x\ny"""', "1", "0", "-1", "0x10", "9223372036854775807",
          "-9223372036854775808", "1.5", "1e3", "nan", "inf", "-inf", "true", "false",
          "1979-05-27T07:32:00Z", "1979-05-27T07:32:00+09:00", "1979-05-27T07:32:00",
          "1979-05-27", "07:32:00", "[]", '["a"]', '["a", 1]', "[1]", "[[]]", "[{}]",
          "[{ a = 1 }]", "{}", "{ a = 1 }", "{ en = 1 }", '{ en = "x" }', '{ ja = "x" }',
          '{ en = "x", ja = "y" }']
ASSIGNMENT = re.compile(r"^(\s*[A-Za-z_]+\s*=\s*)(.+)$")
HEADER = re.compile(r"^\[(\[?)([A-Za-z_.]+)\]?\]$")
INLINE = re.compile(r"^\{(.*)\}$")
INNER = re.compile(r'\s*([A-Za-z_]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,]+?)\s*(?:,|$)')


def inline_variants(value):
    """An inline table `{ k = v, ... }` with each inner value replaced, or left out."""
    m = INLINE.match(value.strip())
    if not m:
        return
    pairs = INNER.findall(m.group(1))
    for i in range(len(pairs)):
        rest = pairs[:i] + pairs[i + 1:]
        yield "{ " + ", ".join(f"{k} = {v}" for k, v in rest) + " }"
        for value in VALUES:
            changed = pairs[:i] + [(pairs[i][0], value)] + pairs[i + 1:]
            yield "{ " + ", ".join(f"{k} = {v}" for k, v in changed) + " }"


def array_variants(value):
    """An array with one element of each kind, alone and after the first element."""
    value = value.strip()
    if not (value.startswith("[") and value.endswith("]")):
        return
    first = value[1:-1].split(",")[0].strip()
    for v in VALUES:
        yield f"[{v}]"
        if first:
            yield f"[{first}, {v}]"


def table_variants(lines):
    """Each table name's sections left out, alone or with `name = value` at the top instead."""
    names = sorted({h.group(2) for h in map(HEADER.match, lines) if h})
    for name in names:
        kept, skip = [], False
        for line in lines:
            h = HEADER.match(line)
            if h:
                skip = h.group(2) == name
            if not skip:
                kept.append(line)
        first = next((j for j, line in enumerate(kept) if HEADER.match(line)), len(kept))
        yield "\n".join(kept)
        for v in VALUES:
            yield "\n".join(kept[:first] + [f"{name} = {v}"] + kept[first:])


def variants(text):
    lines = text.split("\n")
    yield "zz = 1\n" + text
    yield from table_variants(lines)
    for i, line in enumerate(lines):
        before, after = lines[:i], lines[i + 1:]
        m = ASSIGNMENT.match(line)
        if m:
            yield "\n".join(before + after)
            for value in VALUES:
                if value != m.group(2):
                    yield "\n".join(before + [m.group(1) + value] + after)
            for value in [*inline_variants(m.group(2)), *array_variants(m.group(2))]:
                yield "\n".join(before + [m.group(1) + value] + after)
        h = HEADER.match(line)
        if h:
            yield "\n".join(before + [line, "zz = 1"] + after)
            swapped = f"[{h.group(2)}]" if h.group(1) else f"[[{h.group(2)}]]"
            yield "\n".join(before + [swapped] + after)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: profile_variants.py OUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    written = set()
    for name in sorted(os.listdir(SEEDS)):
        with open(os.path.join(SEEDS, name), encoding="utf-8") as f:
            text = f.read()
        for v in variants(text):
            data = v.encode("utf-8")
            name = hashlib.sha1(data).hexdigest()
            with open(os.path.join(out, name), "wb") as f:
                f.write(data)
            written.add(name)
    print(f"{len(written)} variants written to {out}")


if __name__ == "__main__":
    main()
