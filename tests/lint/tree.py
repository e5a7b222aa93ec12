# SPDX-License-Identifier: BSD-3-Clause
"""The files of the tree that the lint checks read."""

import os
import subprocess


def tree_files(root):
    """Paths relative to root, sorted, of the files git tracks that are in
    the work tree; with no git checkout, every file below root outside .git
    and the build directories at its top. Standard library only."""
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z"], check=True,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
        names = [n for n in out.decode().split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = []
        for top, dirs, files in os.walk(root):
            rel_top = os.path.relpath(top, root)
            dirs[:] = sorted(d for d in dirs if d != ".git" and
                             not (rel_top == "." and d.startswith("build")))
            names += [os.path.normpath(os.path.join(rel_top, f)) for f in files]
    return sorted(n for n in names if os.path.isfile(os.path.join(root, n)))
