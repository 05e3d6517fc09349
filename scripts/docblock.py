#!/usr/bin/env python3
"""docblock.py FILE NAME [FENCE] < BODY

Replaces the generated block NAME of FILE, the text between
<!-- NAME:begin --> and <!-- NAME:end -->, with BODY (standard input, its
trailing newlines dropped); with FENCE, BODY goes in a fenced code block of
that language ("" for a bare fence). FILE must hold the block exactly once.
scripts/update-docs.sh puts every produced output into the docs this way;
its Python steps import put() instead.
"""
import re
import sys


def put(path, name, body, fence=None):
    body = body.rstrip("\n")
    if fence is not None:
        body = "```" + fence + "\n" + body + "\n```"
    text = open(path).read()
    pattern = r"<!-- %s:begin -->.*?<!-- %s:end -->" % (re.escape(name), re.escape(name))
    block = "<!-- %s:begin -->\n%s\n<!-- %s:end -->" % (name, body, name)
    new, n = re.subn(pattern, lambda m: block, text, flags=re.S)
    if n != 1:
        sys.exit("%s has %d %s blocks, want 1" % (path, n, name))
    open(path, "w").write(new)


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__.strip().splitlines()[0])
    put(sys.argv[1], sys.argv[2], sys.stdin.read(), sys.argv[3] if len(sys.argv) == 4 else None)
