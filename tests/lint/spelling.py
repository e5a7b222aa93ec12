#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""No misspelt words in the tree (codespell).

usage: spelling.py [REPO_ROOT]     (default: two levels above this file)

Runs codespell over every tracked text file but third-party captures and
fuzzer inputs (bytes, not words). Words that are right where they stand
(a man page's \\(bu, a deliberate typo a test feeds the config loader) are
listed, with the reason, in codespell-ignore next to this file. Fails
(exit 1) with codespell's file:line: word ==> suggestion lines.
Standard library only.
"""

import os
import shutil
import subprocess
import sys

from tree import tree_files

HERE = os.path.dirname(os.path.abspath(__file__))
SKIPPED = ("tests/data/", "tests/fuzz/corpus/", "tests/fuzz/regressions/")


def files(root):
    return [n for n in tree_files(root) if not n.startswith(SKIPPED)]


def ignore_words():
    words = []
    with open(os.path.join(HERE, "codespell-ignore"), encoding="utf-8") as f:
        for line in f:
            word = line.split("#", 1)[0].strip()
            if word:
                words.append(word)
    return words


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", ".."))
    tool = shutil.which("codespell")
    if tool is None:
        print("codespell not found: ./tools/install-deps installs it (package codespell)")
        return 1
    names = files(root)
    p = subprocess.run([tool, "--quiet-level", "2", "--ignore-words-list",
                        ",".join(ignore_words())] + names, cwd=root, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        sys.stdout.write(p.stdout)
        print("codespell found misspellings (right as they are? list them in %s)"
              % os.path.relpath(os.path.join(HERE, "codespell-ignore"), root))
        return 1
    print("%d files spell-checked" % len(names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
