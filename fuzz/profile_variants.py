#!/usr/bin/env python3
"""Write mistyped variants of the profile_parse seeds into a corpus folder.

Every `key = value` line of each seed profile is rewritten with each other kind of TOML value
(string, integer, float, boolean, date-time, arrays, inline tables), or left out; every table
header `[t]` becomes `[[t]]` and back. Each variant reaches one error path of a derived
`Deserialize` (a value of the wrong type, a missing field, a table where a list is wanted), which
random mutation finds only one at a time, slowly. libFuzzer keeps the variants that add coverage.

    python3 fuzz/profile_variants.py fuzz/corpus/profile_parse

Standard library only; the file names are the SHA-1 of the content, like libFuzzer's own.
"""

import hashlib
import os
import re
import sys

SEEDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds", "profile_parse")
VALUES = ['"x"', '""', "1", "-1", "1.5", "true", "1979-05-27T07:32:00Z",
          "[]", '["a"]', "[1]", "{}", "{ a = 1 }", "{ en = 1 }"]
ASSIGNMENT = re.compile(r"^(\s*[A-Za-z_]+\s*=\s*)(.+)$")
HEADER = re.compile(r"^\[(\[?)([A-Za-z_.]+)\]?\]$")


def variants(text):
    lines = text.split("\n")
    for i, line in enumerate(lines):
        before, after = lines[:i], lines[i + 1:]
        m = ASSIGNMENT.match(line)
        if m:
            yield "\n".join(before + after)
            for value in VALUES:
                if value != m.group(2):
                    yield "\n".join(before + [m.group(1) + value] + after)
        h = HEADER.match(line)
        if h:
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
