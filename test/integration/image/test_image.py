"""The Dockerfile at the repository root, checked without a container runtime (there is none here).

The runtime stage installs exactly the Debian packages that own the shared libraries the Release binary loads
(`ldd` on build/release's memgraph-operator, each library mapped to its package with `dpkg -S`), minus the packages
every Debian base image has (BASE_IMAGE_PACKAGES), plus the non-library files it needs (RUNTIME_FILE_PACKAGES).
The build stage installs exactly the -dev packages that provide the linker names (libfoo.so) of the libraries the
binary links directly, plus the build tools; all of them come from scripts/apt-packages.txt. The stages' commands
are the ones the project uses (cmake Release, MGO_TESTS=OFF), the image runs as user 65532, and the binary is on
PATH as `memgraph-operator` (the agent containers the operator creates run `command: [memgraph-operator, ...]`).

The Release binary: $MGO_RELEASE_BUILD_DIR, else build/release (scripts/test.sh builds it before pytest); when it
is missing the test configures and builds just that target there.
"""

import os
import re
import shlex
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DOCKERFILE = os.path.join(ROOT, "Dockerfile")

# Packages present in every Debian image, never installed by the runtime stage: libc6 (glibc: libc.so.6,
# libresolv.so.2 and the dynamic loader). The base image's own programs need it and it must stay the base's version,
# so the image does not install or upgrade it. Everything else the binary loads is installed explicitly, even when
# bookworm-slim happens to ship it already (zlib1g, libzstd1, gnutls and its dependencies, pulled in by apt): the
# list then does not depend on what a particular base image revision contains.
BASE_IMAGE_PACKAGES = {"libc6"}
# Runtime packages that are not shared libraries, each with why.
RUNTIME_FILE_PACKAGES = {
    "ca-certificates": "the CA bundle libcurl verifies S3 endpoints against when no CA file is configured",
}
BUILD_TOOLS = {"build-essential", "cmake", "pkg-config"}
MULTIARCH = "/usr/lib/x86_64-linux-gnu"


def _release_binary():
    build = os.environ.get("MGO_RELEASE_BUILD_DIR") or os.path.join(ROOT, "build", "release")
    binary = os.path.join(build, "src", "cmd", "memgraph-operator")
    if not os.access(binary, os.X_OK):
        for cmd in (["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DMGO_TESTS=OFF"],
                    ["nice", "cmake", "--build", build, "-j1", "--target", "memgraph-operator"]):
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
            assert r.returncode == 0, f"{' '.join(cmd)} failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    with open(os.path.join(build, "CMakeCache.txt"), encoding="utf-8") as f:
        cache = f.read()
    assert re.search(r"^CMAKE_BUILD_TYPE:STRING=Release$", cache, re.M), f"{build} is not a Release build"
    assert not re.search(r"^MGO_SANITIZE:BOOL=ON$", cache, re.M), f"{build} is a sanitizer build"
    return binary


def _instructions(path=DOCKERFILE):
    """[(stage name, INSTRUCTION, argument text)] with continuation lines joined and comments dropped."""
    with open(path, encoding="utf-8") as f:
        lines = [ln for ln in f.read().splitlines() if not ln.lstrip().startswith("#")]
    joined, cur = [], ""
    for ln in lines:
        if ln.rstrip().endswith("\\"):
            cur += ln.rstrip()[:-1] + " "
            continue
        cur += ln
        if cur.strip():
            joined.append(cur.strip())
        cur = ""
    out, stage = [], None
    for ins in joined:
        word, _, rest = ins.partition(" ")
        word = word.upper()
        if word == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", rest.strip(), re.I)
            stage = m.group(2) or m.group(1)
        out.append((stage, word, rest.strip()))
    return out


def _stages():
    return [rest for _, word, rest in _instructions() if word == "FROM"]


def _stage(name):
    ins = [(w, r) for s, w, r in _instructions() if s == name]
    assert ins, f"no stage {name} in the Dockerfile"
    return ins


def _apt_installs(name):
    """The packages of every `apt-get install` in a stage's RUN instructions, in order."""
    pkgs = []
    for word, rest in _stage(name):
        if word != "RUN":
            continue
        for cmd in re.split(r"&&|;", rest):
            tokens = shlex.split(cmd)
            if "apt-get" in tokens and "install" in tokens:
                pkgs += [t for t in tokens[tokens.index("install") + 1:] if not t.startswith("-")]
    return pkgs


def _dpkg_owner(path):
    """The package owning a file; tries the path as given and its merged-/usr twin (dpkg records either)."""
    candidates = [path, os.path.realpath(path)]
    for p in list(candidates):
        if p.startswith("/usr/lib/"):
            candidates.append(p[len("/usr"):])
        elif p.startswith("/lib/"):
            candidates.append("/usr" + p)
    for p in candidates:
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True, check=False)
        if r.returncode == 0:
            return r.stdout.split(":")[0].strip()
    raise AssertionError(f"no Debian package owns {path}")


def _ldd(binary):
    r = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True)
    libs = {}
    for line in r.stdout.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(\S+)\s+\(0x", line)
        if m:
            libs[m.group(1)] = m.group(2)
        elif "not found" in line:
            raise AssertionError(f"ldd: {line.strip()}")
        else:
            m = re.match(r"\s*(/\S+)\s+\(0x", line)  # the dynamic loader
            if m:
                libs[os.path.basename(m.group(1))] = m.group(1)
    return libs


def _needed(binary):
    r = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True)
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(\S+)\]", r.stdout)


@pytest.fixture(scope="module")
def binary():
    return _release_binary()


def test_runtime_stage_installs_exactly_the_packages_of_the_libraries_the_binary_loads(binary):
    libs = _ldd(binary)
    assert not [n for n in libs if re.match(r"lib(a|ub|t|l)san", n)], f"sanitizer runtime in a Release build: {libs}"
    assert {"libcurl.so.4", "libssl.so.3", "libjansson.so.4", "libmicrohttpd.so.12", "libyaml-0.so.2"} <= set(libs)
    owners = {name: _dpkg_owner(path) for name, path in libs.items()}
    wanted = (set(owners.values()) - BASE_IMAGE_PACKAGES) | set(RUNTIME_FILE_PACKAGES)
    installed = _apt_installs("runtime")
    assert len(installed) == len(set(installed)), f"a package is listed twice: {installed}"
    missing, extra = sorted(wanted - set(installed)), sorted(set(installed) - wanted)
    assert not missing and not extra, (f"runtime stage apt-get install differs from what the binary loads:\n"
                                       f"missing {missing}\nextra {extra}\nlibraries → packages: {owners}")
    # the base set really is only the C library (and its loader)
    assert {owners[n] for n in ("libc.so.6", "ld-linux-x86-64.so.2") if n in owners} == BASE_IMAGE_PACKAGES
    assert installed == sorted(installed), "keep the list sorted, so a diff shows what changed"


def test_build_stage_installs_the_dev_packages_of_the_linked_libraries(binary):
    """For every library the binary links directly (ELF NEEDED) but libc, the package that provides its linker
    name (libfoo.so, what -lfoo resolves) must be installed by the build stage, and nothing else but the tools."""
    dev = set()
    ldd = _ldd(binary)
    # linker names: the unversioned libfoo.so symlinks, by the library file they point at
    # (libyaml-0.so.2's is libyaml.so: the names need not match)
    linker_names = {}
    for entry in os.listdir(MULTIARCH):
        path = os.path.join(MULTIARCH, entry)
        if entry.endswith(".so") and os.path.islink(path):
            linker_names.setdefault(os.path.realpath(path), []).append(path)
    for soname in _needed(binary):
        if soname == "libc.so.6":
            continue
        found = linker_names.get(os.path.realpath(ldd[soname]))
        assert found, f"no lib*.so in {MULTIARCH} points at {ldd[soname]} ({soname}): its -dev package is missing"
        dev |= {_dpkg_owner(p) for p in found}
    assert all(p.endswith("-dev") for p in dev), dev
    installed = _apt_installs("build")
    assert set(installed) == dev | BUILD_TOOLS, f"build stage: {sorted(installed)}; wanted {sorted(dev | BUILD_TOOLS)}"
    with open(os.path.join(ROOT, "scripts", "apt-packages.txt"), encoding="utf-8") as f:
        project = {ln.strip() for ln in f if ln.strip() and not ln.lstrip().startswith("#")}
    assert set(installed) <= project, f"not in scripts/apt-packages.txt: {set(installed) - project}"


def test_stages_base_images_user_and_entrypoint():
    assert _stages() == ["debian:bookworm AS build", "debian:bookworm-slim AS runtime"]
    build = " ".join(r for w, r in _stage("build") if w == "RUN")
    assert "-DCMAKE_BUILD_TYPE=Release" in build and "-DMGO_TESTS=OFF" in build
    assert "--target memgraph-operator" in build
    runtime = _stage("runtime")
    assert ("USER", "65532:65532") in runtime
    users = [r for w, r in runtime if w == "USER"]
    assert users == ["65532:65532"], "the runtime stage must end up non-root 65532 (config/manager's runAsUser)"
    (copy,) = [r for w, r in runtime if w == "COPY"]
    src, dest = copy.split()[-2:]
    assert copy.startswith("--from=build ") and src == "/build/src/cmd/memgraph-operator"
    # on PATH under its own name: the agent containers run `command: [memgraph-operator, agent, ...]`
    assert os.path.basename(dest) == "memgraph-operator" and os.path.dirname(dest) in (
        "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
    assert ("ENTRYPOINT", f'["{dest}"]') in runtime and ("CMD", '["run"]') in runtime
    # the config/manager Deployment passes only args (run, flags): they follow the ENTRYPOINT
    assert runtime[-1][0] in ("CMD", "ENTRYPOINT")


def test_build_context_is_enough_to_configure(tmp_path):
    """The build stage copies only CMakeLists.txt and src/ (and .dockerignore lets only those in): a Release
    configure of exactly that tree succeeds."""
    copies = [r for w, r in _stage("build") if w == "COPY"]
    assert copies == ["CMakeLists.txt ./", "src ./src"]
    with open(os.path.join(ROOT, ".dockerignore"), encoding="utf-8") as f:
        rules = [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]
    assert rules == ["*", "!CMakeLists.txt", "!src/"]
    ctx = tmp_path / "context"
    ctx.mkdir()
    shutil.copy2(os.path.join(ROOT, "CMakeLists.txt"), ctx / "CMakeLists.txt")
    shutil.copytree(os.path.join(ROOT, "src"), ctx / "src")
    r = subprocess.run(["cmake", "-S", str(ctx), "-B", str(tmp_path / "build"), "-DCMAKE_BUILD_TYPE=Release",
                        "-DMGO_TESTS=OFF"], capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    r = subprocess.run(["cmake", "--build", str(tmp_path / "build"), "--target", "help"], capture_output=True,
                       text=True, timeout=120, check=False)
    assert r.returncode == 0 and "memgraph-operator" in r.stdout, r.stdout[-2000:]
