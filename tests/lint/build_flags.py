#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The warnings the project builds with cannot silently vanish.

usage: build_flags.py REPO_ROOT BUILD_DIR

DPDK's extra warnings (-Wcast-qual -Wwrite-strings -Wvla) and
-Wmissing-prototypes, with -Wall -Wextra -Werror, are part of the
contract of the code (docs/design.md, "Test bed and tests"). Fails (exit
1) when

  - the top meson.build no longer names each flag of EXTRA in its
    add_project_arguments() (comments do not count), or has lost
    warning_level=2 (or higher) or werror=true;
  - a C file of BUILD_DIR/compile_commands.json is compiled without one of
    REQUIRED (a compiler that does not know a flag would make
    get_supported_arguments() drop it), or with a -Wno-... or -Wno-error
    that takes one back.
Standard library only.
"""

import json
import os
import re
import shlex
import sys

EXTRA = ("-Wcast-qual", "-Wwrite-strings", "-Wvla", "-Wmissing-prototypes")
REQUIRED = ("-Wall", "-Wextra", "-Werror") + EXTRA


def strip_comments(text):
    """meson.build without its # comments (a # inside a string stays)."""
    out = []
    for line in text.splitlines():
        quote = None
        for i, c in enumerate(line):
            if quote is None and c in "'\"":
                quote = c
            elif quote == c:
                quote = None
            elif quote is None and c == "#":
                line = line[:i]
                break
        out.append(line)
    return "\n".join(out)


def check_meson(root):
    found = []
    path = os.path.join(root, "meson.build")
    with open(path, encoding="utf-8") as f:
        text = strip_comments(f.read())
    m = re.search(r"add_project_arguments\((.*?)language\s*:\s*'c'", text, re.S)
    if m is None:
        return ["meson.build: no add_project_arguments(..., language: 'c')"]
    args = m.group(1)
    for flag in EXTRA:
        if "'%s'" % flag not in args:
            found.append("meson.build: %s is gone from add_project_arguments()" % flag)
    level = re.search(r"'warning_level=(\w+)'", text)
    if level is None or level.group(1) not in ("2", "3", "everything"):
        found.append("meson.build: default_options lost warning_level=2 (-Wall -Wextra)")
    if "'werror=true'" not in text:
        found.append("meson.build: default_options lost werror=true")
    return found


def check_commands(build):
    path = os.path.join(build, "compile_commands.json")
    try:
        with open(path, encoding="utf-8") as f:
            entries = json.load(f)
    except OSError as e:
        return ["%s: %s (run meson setup first)" % (path, e.strerror)], 0
    found = []
    n = 0
    for e in entries:
        if not e["file"].endswith(".c"):
            continue
        n += 1
        words = e["arguments"] if "arguments" in e else shlex.split(e["command"])
        rel = os.path.normpath(os.path.join(e.get("directory", build), e["file"]))
        for flag in REQUIRED:
            if flag not in words:
                found.append("%s: compiled without %s" % (rel, flag))
                continue
            last = max(i for i, w in enumerate(words) if w == flag)
            undo = "-Wno-error" if flag == "-Werror" else "-Wno-" + flag[2:]
            if any(w == undo for w in words[last:]):
                found.append("%s: %s taken back by %s" % (rel, flag, undo))
        if "-Wno-error" in words or any(w.startswith("-Wno-error=") for w in words):
            found.append("%s: warnings made non-fatal (-Wno-error)" % rel)
    return found, n


def main():
    if len(sys.argv) != 3:
        print(__doc__.splitlines()[2], file=sys.stderr)
        return 2
    root, build = sys.argv[1], sys.argv[2]
    found = check_meson(root)
    more, n = check_commands(build)
    found += more
    for line in sorted(set(found)):
        print(line)
    print("%d C files checked for %s: %d findings" % (n, " ".join(REQUIRED), len(set(found))))
    return 1 if found or n == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
