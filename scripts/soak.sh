#!/usr/bin/env bash
# Soak: the chaos scenarios of test/e2e/test_chaos.py, test_chaos_operator.py, test_chaos_rollouts.py and
# test_chaos_partitions.py run many times on one local control plane, then a report.
#
#   bash scripts/soak.sh            (make soak)
#
# Env:
#   SOAK_TRIALS            scenario runs in total (default 100), spread over rounds of every scenario except the
#                          rolling-restart one (one round = one pytest run of all of them)
#   SOAK_ROLLING_RESTARTS  pod-template changes in a row for test_rolling_restarts_in_a_row, run once at the end
#                          (default 50; 0 skips it)
#   SOAK_OUT               report (default bench/results/soak.md); the raw files go to a temp dir named in it
#   MGO_BUILD_DIR / MGO_OPERATOR_BIN   the operator under test (default: make build's build/debug)
#   MGO_CONTROL_PLANE_DIR  reuse a running control plane (else one is started and stopped here)
# A failing round does not stop the soak: failures are counted per scenario and the first lines of each are kept.
# Exit status: 0 when every trial passed, 1 otherwise.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TRIALS=${SOAK_TRIALS:-100}
RR=${SOAK_ROLLING_RESTARTS:-50}
OUT=${SOAK_OUT:-$ROOT/bench/results/soak.md}
PY=$ROOT/.venv/bin/python
if [ -z "${MGO_OPERATOR_BIN:-}" ]; then
  export MGO_BUILD_DIR=${MGO_BUILD_DIR:-$ROOT/build/debug}
  case $MGO_BUILD_DIR in /*) ;; *) MGO_BUILD_DIR=$ROOT/$MGO_BUILD_DIR ;; esac  # the kubelet needs it absolute
  if [ ! -x "$MGO_BUILD_DIR/src/cmd/memgraph-operator" ]; then
    echo "soak: building the operator in $MGO_BUILD_DIR" >&2
    cmake -S . -B "$MGO_BUILD_DIR" -DCMAKE_BUILD_TYPE=Debug -DMGO_SANITIZE=ON >/dev/null && \
      cmake --build "$MGO_BUILD_DIR" -j 2 --target memgraph-operator >/dev/null || exit 2
  fi
fi
RAW=$(mktemp -d /tmp/mgo-soak.XXXXXX)
export CHAOS_REPORT_FILE=$RAW/reports.jsonl
OWNED=""
if [ -z "${MGO_CONTROL_PLANE_DIR:-}" ]; then
  MGO_CONTROL_PLANE_DIR=$(bash test/cluster/up.sh 2>"$RAW/up.err" | tail -1) || { cat "$RAW/up.err"; exit 2; }
  export MGO_CONTROL_PLANE_DIR
  OWNED=1
fi
cleanup() { [ -n "$OWNED" ] && bash test/cluster/down.sh "$MGO_CONTROL_PLANE_DIR" --purge >/dev/null 2>&1; }
trap cleanup EXIT
START=$(date +%s)
# The fault scenarios, the rollouts and the partitions (issue 11: the soak includes partitions).
FILES=(test/e2e/test_chaos.py test/e2e/test_chaos_operator.py test/e2e/test_chaos_rollouts.py
  test/e2e/test_chaos_partitions.py)

per_round=$("$PY" -m pytest -p no:cacheprovider --collect-only -q "${FILES[@]}" -k "not rolling_restarts and not checker" \
  2>/dev/null | grep -c '::')
[ "$per_round" -gt 0 ] || { echo "soak: no scenario collected" >&2; exit 2; }
rounds=$(( (TRIALS + per_round - 1) / per_round ))
echo "soak: $per_round scenarios per round, $rounds rounds (SOAK_TRIALS=$TRIALS), raw files in $RAW" >&2
for r in $(seq 1 "$rounds"); do
  echo "soak: round $r/$rounds ($(( $(date +%s) - START )) s so far)" >&2
  "$PY" -m pytest -p no:cacheprovider -q -s "${FILES[@]}" -k "not rolling_restarts and not checker" \
    --junitxml="$RAW/round-$r.xml" >"$RAW/round-$r.log" 2>&1
  tail -1 "$RAW/round-$r.log" >&2
done
if [ "$RR" -gt 0 ]; then
  echo "soak: $RR rolling restarts in a row" >&2
  CHAOS_ROLLING_RESTARTS=$RR "$PY" -m pytest -p no:cacheprovider -q -s test/e2e/test_chaos_rollouts.py \
    -k rolling_restarts --junitxml="$RAW/rolling.xml" \
    --timeout=$(( RR * 120 + 300 )) >"$RAW/rolling.log" 2>&1
  tail -1 "$RAW/rolling.log" >&2
fi
ELAPSED=$(( $(date +%s) - START ))

"$PY" - "$RAW" "$OUT" "$TRIALS" "$RR" "$ELAPSED" <<'PYEOF'
import datetime, glob, json, os, platform, statistics, sys
import xml.etree.ElementTree as ET

raw, out, trials, rr, elapsed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
per = {}
for path in sorted(glob.glob(os.path.join(raw, "*.xml"))):
    for tc in ET.parse(path).getroot().iter("testcase"):
        name = tc.get("name")
        if os.path.basename(path) == "rolling.xml":
            name = f"{name} (×{rr})"
        s = per.setdefault(name, {"trials": 0, "passed": 0, "failed": 0, "errors": []})
        bad = tc.find("failure") if tc.find("failure") is not None else tc.find("error")
        if tc.find("skipped") is not None:
            continue
        s["trials"] += 1
        if bad is None:
            s["passed"] += 1
        else:
            s["failed"] += 1
            msg = (bad.get("message") or "").splitlines()[:3]
            s["errors"].append(f"{os.path.basename(path)}: {' / '.join(msg)[:400]}")
reports = []
if os.path.exists(os.path.join(raw, "reports.jsonl")):
    with open(os.path.join(raw, "reports.jsonl"), encoding="utf-8") as f:
        reports = [json.loads(line) for line in f if line.strip()]

def pct(vals, p):
    v = sorted(vals)
    return v[max(0, min(len(v) - 1, int(round(p / 100 * len(v) + 0.5)) - 1))]

def fmt(vals):
    return f"{pct(vals, 50):.2f} / {pct(vals, 99):.2f} (N={len(vals)})" if vals else "–"

fault_to_ack, op_ms, lost, acked, by_test = [], [], 0, 0, {}
for r in reports:
    acked += r.get("acked", 0)
    lost += r.get("lost", 0)
    fos = [f for f in r.get("failovers") or [] if f.get("kind", "failover") != "switchover"]
    first = (r.get("first_ack_after") or {})
    key = next((k for k in first if k.startswith("fault")), None)
    if fos and key and first[key] is not None:
        name = r.get("test", "").rsplit("::", 1)[-1]
        fault_to_ack.append(first[key])
        ms = [f["writeUnavailableMs"] / 1000 for f in fos if f.get("writeUnavailableMs") is not None]
        op_ms += ms
        t = by_test.setdefault(name, ([], []))
        t[0].append(first[key])
        t[1].extend(ms)
mem = next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal:")), 0)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "")
total = sum(s["trials"] for s in per.values())
passed = sum(s["passed"] for s in per.values())
lines = ["# Soak: the chaos scenarios repeated (issue 5)", "",
         f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
         f"- machine: nproc {os.cpu_count()}, memory {mem / 1048576:.1f} GiB, {cpu}, {platform.platform()}",
         f"- command: `SOAK_TRIALS={trials} SOAK_ROLLING_RESTARTS={rr} bash scripts/soak.sh` (`make soak`); "
         f"operator `{os.environ.get('MGO_OPERATOR_BIN') or os.environ.get('MGO_BUILD_DIR')}`",
         f"- wall time: {elapsed // 60} min {elapsed % 60} s; raw files: `{raw}` (junit XML, pytest logs, reports.jsonl)",
         f"- result: **{passed}/{total} trials passed**; {acked} acknowledged writes checked, {lost} lost "
         f"(ASYNC scenarios may lose up to the operator's estimate)", "",
         "| scenario | trials | passed | failed |", "|---|---|---|---|"]
lines += [f"| `{n}` | {s['trials']} | {s['passed']} | {s['failed']} |" for n, s in sorted(per.items())]
lines += ["", "Failover (scenarios where a failover happened; seconds, p50 / p99):", "",
          f"- fault → first write acknowledged by the new MAIN through the write Service: {fmt(fault_to_ack)}",
          f"- the operator's status.lastFailover.writeUnavailableMs: {fmt(op_ms)}", "",
          "| scenario | fault → first ack by the new MAIN (s), p50 / p99 | operator writeUnavailableMs (s), p50 / p99 |",
          "|---|---|---|"]
lines += [f"| `{n}` | {fmt(a)} | {fmt(b)} |" for n, (a, b) in sorted(by_test.items())]
lines += [""]
fails = [(n, e) for n, s in sorted(per.items()) for e in s["errors"]]
if fails:
    lines += ["Failures (first lines):", ""] + [f"- `{n}` {e}" for n, e in fails] + [""]
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w", encoding="utf-8") as f:
    f.write("\n".join(lines))
print("\n".join(lines))
sys.exit(0 if total and passed == total else 1)
PYEOF
