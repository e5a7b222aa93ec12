#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The repository stands alone: nothing it runs reads a path outside it.

usage: standalone.py [REPO_ROOT]     (default: two levels above this file)

Fails (exit 1, one line per finding as file:line: reason) when

  - a file under tests/, tools/ or .ci/, or any meson.build or
    meson_options.txt, names a path outside the tree: a relative path
    (../...) that climbs above the repository root from the file's own
    folder, a ".." component joined to a "shared" one (the way
    os.path.join or meson's / operator spells it), or an absolute path
    under a root the project must never use;
  - a capture under tests/data/captures (*.pcap, *.pcapng) is missing from
    the checksum list of tests/data/captures/README.md, its SHA-256 differs
    from the list, or the list names a file that is not there.

Files are the ones git tracks when the tree is a git checkout, else every
file below the root except build directories. Binary files are skipped.
Standard library only.
"""

import hashlib
import os
import re
import sys

from tree import tree_files

SCANNED_DIRS = ("tests", "tools", ".ci")
SCANNED_NAMES = ("meson.build", "meson_options.txt")
CAPTURES = os.path.join("tests", "data", "captures")
CAPTURE_EXTS = (".pcap", ".pcapng")

# Absolute roots no file of the project may name (the machine the project
# was made on kept its neighbours there). Written as patterns so that this
# file does not name them itself.
FORBIDDEN_ABSOLUTE = (
    re.compile(r"(?<![\w.-])/wor[k](?![\w.-])"),
)
# A relative path: one or more "../" and what follows.
RELATIVE = re.compile(r"(?<![\w.-])((?:\.\./)+[\w./-]*)")
# ".." and "shared" as separate path components, as os.path.join or meson's
# "/" operator writes them.
DOTDOT_SHARED = re.compile(r"""['"]\.\.['"]\s*[,/]\s*['"]shared['"]""")
CHECKSUM_LINE = re.compile(r"^([0-9a-f]{64})  (\S+)$")


def tracked_files(root):
    """Paths relative to root of the files to look at."""
    picked = []
    for n in tree_files(root):
        first = n.split("/", 1)[0]
        if first in SCANNED_DIRS or os.path.basename(n) in SCANNED_NAMES:
            picked.append(n)
    return picked


def scan_paths(root, rel):
    """file:line: reason for each outside path rel names."""
    with open(os.path.join(root, rel), "rb") as f:
        data = f.read()
    if b"\0" in data:
        return []
    text = data.decode("utf-8", "replace")
    here = os.path.dirname(os.path.join(root, rel))
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        for pat in FORBIDDEN_ABSOLUTE:
            for m in pat.finditer(line):
                found.append("%s:%d: absolute path outside the repository: %s"
                             % (rel, n, line[m.start():].split()[0]))
        if DOTDOT_SHARED.search(line):
            found.append("%s:%d: path climbs out of the repository: %s" % (rel, n, line.strip()))
        for m in RELATIVE.finditer(line):
            target = os.path.normpath(os.path.join(here, m.group(1)))
            if os.path.relpath(target, root).split(os.sep)[0] == os.pardir:
                found.append("%s:%d: relative path climbs out of the repository: %s"
                             % (rel, n, m.group(1)))
    return found


def checksum_list(readme):
    """{relative path: sha256} from the README's sha256sum-format lines."""
    listed = {}
    with open(readme, encoding="utf-8") as f:
        for line in f:
            m = CHECKSUM_LINE.match(line.rstrip("\n"))
            if m:
                listed[m.group(2)] = m.group(1)
    return listed


def check_captures(root):
    found = []
    base = os.path.join(root, CAPTURES)
    readme = os.path.join(base, "README.md")
    rel_readme = os.path.relpath(readme, root)
    if not os.path.isfile(readme):
        return ["%s: missing" % rel_readme]
    listed = checksum_list(readme)
    present = []
    for top, dirs, files in os.walk(base):
        dirs.sort()
        for f in sorted(files):
            if f.endswith(CAPTURE_EXTS):
                present.append(os.path.relpath(os.path.join(top, f), base))
    if not present:
        found.append("%s: no capture found" % os.path.relpath(base, root))
    for rel in present:
        with open(os.path.join(base, rel), "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if rel not in listed:
            found.append("%s: %s is not in its checksum list" % (rel_readme, rel))
        elif listed[rel] != digest:
            found.append("%s: %s has sha256 %s, the list says %s"
                         % (rel_readme, rel, digest, listed[rel]))
    for rel in sorted(set(listed) - set(present)):
        found.append("%s: lists %s, which is not there" % (rel_readme, rel))
    return found


def main():
    if len(sys.argv) > 2:
        print(__doc__.splitlines()[2], file=sys.stderr)
        return 2
    root = os.path.abspath(sys.argv[1] if len(sys.argv) == 2 else
                           os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    files = tracked_files(root)
    found = []
    for rel in files:
        found += scan_paths(root, rel)
    found += check_captures(root)
    for line in found:
        print(line)
    print("%d files scanned, %d findings" % (len(files), len(found)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
