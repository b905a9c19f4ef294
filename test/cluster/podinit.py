"""Container entry shim of the test kubelet. Runs as `unshare --mount --uts --propagation private -- python
podinit.py SPEC.json`, i.e. already inside the container's private mount and UTS namespaces, and then:
  1. sets the hostname (pod hostname),
  2. bind-mounts every (source, target, read_only) of spec["mounts"] in order (creating targets on the host
     filesystem when missing: directories for directory sources, empty files for file sources),
  3. chdir(spec["cwd"]) (created when missing) and execve(spec["argv"], spec["env"]) — same PID as the kubelet's
     child, so the PID the kubelet records is the program's PID. A script for `/usr/bin/env python3` (the
     emulator) runs on this interpreter, as in an image whose python sits at a fixed path: no PATH lookup through
     a version manager's shim (pyenv's costs ~0.1 s of CPU per start, measured; the suite starts ~600 pods).
Exit code 126 and a message on stderr when any step fails.
"""

import ctypes
import json
import os
import shutil
import socket
import sys

MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC = 1, 32, 4096, 16384
libc = ctypes.CDLL(None, use_errno=True)


def mount_bind(src, dst, read_only):
    if os.path.isdir(src):
        os.makedirs(dst, exist_ok=True)
    elif not os.path.exists(dst):
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        open(dst, "a").close()
    if libc.mount(src.encode(), dst.encode(), None, MS_BIND | MS_REC, None) != 0:
        raise OSError(ctypes.get_errno(), f"bind mount {src} -> {dst}")
    if read_only:
        flags = MS_BIND | MS_REC | MS_REMOUNT | MS_RDONLY
        if libc.mount(None, dst.encode(), None, flags, None) != 0:
            raise OSError(ctypes.get_errno(), f"read-only remount of {dst}")


PYTHON_SHEBANGS = (b"#!/usr/bin/env python3", b"#!/usr/bin/python3")


def exec_argv(prog, argv):
    """(program, argv) to execve: a python3 script runs on sys.executable, anything else as it is."""
    try:
        with open(prog, "rb") as f:
            first = f.readline(80).strip()
    except OSError:
        return prog, argv
    if first in PYTHON_SHEBANGS:
        return sys.executable, [sys.executable, prog, *argv[1:]]
    return prog, argv


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    try:
        if spec.get("hostname"):
            socket.sethostname(spec["hostname"][:63])
        for src, dst, read_only in spec["mounts"]:
            mount_bind(src, dst, read_only)
        cwd = spec.get("cwd") or "/"
        os.makedirs(cwd, exist_ok=True)
        os.chdir(cwd)
        argv = spec["argv"]
        env = spec["env"]
        prog = argv[0] if "/" in argv[0] else shutil.which(argv[0], path=env.get("PATH", os.defpath))
        if not prog:
            raise FileNotFoundError(f"executable not found: {argv[0]}")
        prog, argv = exec_argv(prog, argv)
        sys.stdout.flush()
        os.execve(prog, argv, env)
    except Exception as e:  # noqa: BLE001 - report and fail like a container runtime would
        print(f"mgo-kubelet podinit: {e}", file=sys.stderr, flush=True)
        sys.exit(126)


if __name__ == "__main__":
    main()
