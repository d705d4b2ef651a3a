#!/usr/bin/env python3
"""Write mistyped variants of the profile_parse seeds into a corpus folder.

Every `key = value` line of each seed profile is rewritten with each other kind of TOML value
(string, integer, float, boolean, date-time, arrays, inline tables), one line per variant. Each
variant reaches the error path of one derived `Deserialize` for one value type, which random
mutation finds only one at a time, slowly. libFuzzer keeps the variants that add coverage.

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


def variants(text):
    lines = text.split("\n")
    for i, line in enumerate(lines):
        m = ASSIGNMENT.match(line)
        if not m:
            continue
        for value in VALUES:
            if value != m.group(2):
                yield "\n".join(lines[:i] + [m.group(1) + value] + lines[i + 1:])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: profile_variants.py OUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    written = 0
    for name in sorted(os.listdir(SEEDS)):
        with open(os.path.join(SEEDS, name), encoding="utf-8") as f:
            text = f.read()
        for v in variants(text):
            data = v.encode("utf-8")
            with open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb") as f:
                f.write(data)
            written += 1
    print(f"{written} variants written to {out}")


if __name__ == "__main__":
    main()
