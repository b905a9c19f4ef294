#!/usr/bin/env python3
"""clang-tidy over src/*.c with a result cache, like ccache for a compiler.

    python3 scripts/tidy-cached.py BUILD_DIR JOBS

A file is checked again unless the same inputs passed before: the key is the SHA-256 of the file, of every
header under src/ (any header change re-checks everything), of its compile command with the checkout's path
taken out, of .clang-tidy and of `clang-tidy --version`. Only clean results are cached (a finding fails the run
and is printed every time), under $MGO_CACHE/clang-tidy/ (default ~/.cache/memgraph-operator), outside the
repository. MGO_TIDY_CACHE=0 checks every file. Exits 1 when any file has a finding.
"""
import concurrent.futures
import hashlib
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# "N warnings generated." counts warnings of system headers that the checks then filter out: noise.
NOISE = re.compile(r"^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$")


def sha(data):
    return hashlib.sha256(data).hexdigest()


def tracked(pattern):
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", pattern],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return sorted(line for line in out.splitlines() if line)


def read(rel):
    with open(os.path.join(ROOT, rel), "rb") as f:
        return f.read()


def common_key():
    version = subprocess.run(["clang-tidy", "--version"], check=True, capture_output=True).stdout
    parts = [version, read(".clang-tidy")]
    for rel in tracked("src/*.h"):
        parts += [rel.encode(), read(rel)]
    return sha(b"\0".join(parts))


def commands(build_dir):
    with open(os.path.join(build_dir, "compile_commands.json"), encoding="utf-8") as f:
        entries = json.load(f)
    return {os.path.relpath(e["file"], ROOT): e.get("command", " ".join(e.get("arguments", []))) for e in entries}


def check(rel, build_dir):
    proc = subprocess.run(["clang-tidy", "-p", build_dir, "--quiet", rel], cwd=ROOT, capture_output=True, text=True)
    noise_free = [line for line in proc.stderr.splitlines() if not NOISE.match(line)]
    return proc.returncode, proc.stdout, "\n".join(noise_free)


def main():
    build_dir, jobs = os.path.abspath(sys.argv[1]), int(sys.argv[2])
    cache = os.path.join(os.environ.get("MGO_CACHE", os.path.expanduser("~/.cache/memgraph-operator")), "clang-tidy")
    use_cache = os.environ.get("MGO_TIDY_CACHE", "1") != "0"
    os.makedirs(cache, exist_ok=True)
    base, cmds = common_key(), commands(build_dir)
    todo, keys = [], {}
    for rel in tracked("src/*.c"):
        cmd = cmds.get(rel, "").replace(ROOT, "@ROOT@").encode()
        keys[rel] = sha(b"\0".join([base.encode(), rel.encode(), read(rel), cmd]))
        if not (use_cache and os.path.exists(os.path.join(cache, keys[rel]))):
            todo.append(rel)
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for rel, (rc, out, err) in zip(todo, pool.map(lambda r: check(r, build_dir), todo)):
            if out.strip() or err.strip():
                print(out + err, file=sys.stderr)
            if rc != 0 or out.strip():
                failed += 1
                continue
            with open(os.path.join(cache, keys[rel]), "w", encoding="utf-8") as f:
                f.write(rel + "\n")
    print(f"clang-tidy: {len(todo)} of {len(keys)} files checked ({len(keys) - len(todo)} passed before with the "
          f"same inputs, {cache}); {failed} with findings")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
