#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Every C source and header is formatted as .clang-format says.

usage: format.py [REPO_ROOT]     (default: two levels above this file)

Runs `clang-format --dry-run --Werror` (version 14, the one Debian 12
ships: other versions format differently) over every tracked *.c and *.h,
or every one below the root outside build directories when the tree is no
git checkout. Fails (exit 1) with clang-format's own report, file:line:col,
and the command that fixes it. Standard library only.
"""

import os
import re
import shutil
import subprocess
import sys

from tree import tree_files

VERSION = 14


def c_files(root):
    return [n for n in tree_files(root) if n.endswith((".c", ".h"))]


def find_clang_format():
    """The clang-format of VERSION, or None."""
    for name in ("clang-format-%d" % VERSION, "clang-format"):
        path = shutil.which(name)
        if path is None:
            continue
        out = subprocess.run([path, "--version"], stdout=subprocess.PIPE, text=True).stdout
        m = re.search(r"version (\d+)", out)
        if m and int(m.group(1)) == VERSION:
            return path
    return None


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    tool = find_clang_format()
    if tool is None:
        print("clang-format %d not found: ./tools/install-deps installs it (package clang-format)"
              % VERSION)
        return 1
    if not os.path.exists(os.path.join(root, ".clang-format")):
        print("%s: no .clang-format" % root)
        return 1
    files = c_files(root)
    p = subprocess.run([tool, "--dry-run", "--Werror", "--style=file"] + files, cwd=root,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    bad = sorted(set(re.findall(r"^(\S+?):\d+:\d+: error:", p.stdout, re.M)))
    if p.returncode != 0 or bad:
        sys.stdout.write(p.stdout)
        print("%d of %d files not formatted; fix with: %s -i %s"
              % (len(bad), len(files), os.path.basename(tool), " ".join(bad)))
        return 1
    print("%d files formatted as .clang-format says (%s)" % (len(files), os.path.basename(tool)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
