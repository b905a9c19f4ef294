#!/usr/bin/env python3
"""Project rules that clang-tidy and cppcheck do not check, over the C files in src/ (stdlib only).

1. Banned calls. Unbounded or non-reentrant C library functions the code base already avoids:
     sprintf vsprintf strcpy strcat stpcpy gets   unbounded writes: use mgo_snprintf, mgo_strlcpy, mgo_buf
     strncpy strncat stpncpy                      do not always NUL-terminate / easy to misuse: the same
     alloca                                       unbounded stack use
     strtok gmtime localtime asctime ctime        shared static state: use strtok_r, gmtime_r, mgo_clock
     atoi atol atoll atof                         no error reporting: use strtol/strtod and check the end
   snprintf/vsnprintf stay allowed (bounded); new code prefers mgo_snprintf, which reports truncation.
2. One clock. clock_gettime, gettimeofday and time() are called only in src/common/mgo_clock.c; everything
   else reads mgo_clock (injectable, so tests can drive a fake clock). src/operator/ is exempt until it is
   switched to mgo_clock (its private clocks are listed in CLOCK_EXEMPT_DIRS below).
3. Function length. A function body (the lines between the braces of a top-level definition, blank lines
   and comments included) has at most MAX_BODY_LINES lines. The longest today has 49 (agent_fs.c's
   agent_parse_instructions); 60 leaves room for a case or two but keeps every function on one screen.
   The parser relies on the project's clang-format style: a definition's braces alone at column 0.

Usage: scripts/check-code.py [FILE...]   (default: every tracked or new *.c/*.h under src/)
Prints one line per finding (path:line: message) and exits 1 when there is any.
"""
import re
import subprocess
import sys
from pathlib import Path

MAX_BODY_LINES = 60
BANNED = {
    "sprintf", "vsprintf", "strcpy", "strcat", "stpcpy", "gets",
    "strncpy", "strncat", "stpncpy",
    "alloca",
    "strtok", "gmtime", "localtime", "asctime", "ctime",
    "atoi", "atol", "atoll", "atof",
}
CLOCK_CALLS = {"clock_gettime", "gettimeofday", "time"}
CLOCK_HOME = "src/common/mgo_clock.c"
CLOCK_EXEMPT_DIRS = ("src/operator/",)  # op_run.c now_s, op_observe.c op_now_ms, op_status.c op_now/wall_now_ms

CALL = re.compile(r"(?<![\w.>])([A-Za-z_]\w*)\s*\(")
TOKEN = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)


def blank_out(text):
    """Replaces comments and string/char literals by spaces, keeping newlines (so line numbers hold)."""
    return TOKEN.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def source_files(args):
    if args:
        return [Path(a) for a in args]
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", "src/*.c",
                          "src/*.h"], check=True, capture_output=True, text=True).stdout
    return [Path(p) for p in out.split()]


def check_calls(path, code, findings):
    rel = path.as_posix()
    clock_allowed = rel == CLOCK_HOME or rel.startswith(CLOCK_EXEMPT_DIRS)
    for lineno, line in enumerate(code.split("\n"), 1):
        if line.lstrip().startswith("#"):
            continue  # preprocessor lines: #define wrappers are still caught where they are called
        for m in CALL.finditer(line):
            name = m.group(1)
            if name in BANNED:
                findings.append(f"{rel}:{lineno}: banned call {name}() (see scripts/check-code.py)")
            elif name in CLOCK_CALLS and not clock_allowed:
                findings.append(f"{rel}:{lineno}: {name}() outside the clock module: use mgo_clock")


def function_name(code_lines, brace_index):
    """The name of the function whose body opens at code_lines[brace_index] ("{" alone at column 0)."""
    signature = " ".join(code_lines[max(0, brace_index - 4):brace_index])
    names = re.findall(r"([A-Za-z_]\w*)\s*\(", signature)
    return names[0] if names else "?"


def check_lengths(path, code, findings):
    lines = code.split("\n")
    start = None
    for i, line in enumerate(lines):
        if line.rstrip() == "{" and start is None:
            start = i
        elif line.rstrip() == "}" and start is not None:
            body = i - start - 1
            if body > MAX_BODY_LINES:
                findings.append(f"{path.as_posix()}:{start + 1}: function {function_name(lines, start)}() has "
                                f"{body} body lines (limit {MAX_BODY_LINES})")
            start = None


def main(argv):
    findings = []
    for path in source_files(argv[1:]):
        code = blank_out(path.read_text(encoding="utf-8", errors="replace"))
        check_calls(path, code, findings)
        if path.suffix == ".c":
            check_lengths(path, code, findings)
    for f in findings:
        print(f)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
