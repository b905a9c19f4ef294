# Shared helpers for test/cluster/*.sh (sourced, not executed).
# Defines: MGO_REPO, MGO_CACHE/K8S/ETCD (from tools/versions.env), K8S_BIN_DIR, ETCD_BIN, KUBECTL,
# now_ms, wait_until, stop_pid, log_tail.
MGO_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../tools/versions.env
source "$MGO_REPO/tools/versions.env"
K8S_BIN_DIR=${MGO_K8S_BIN_DIR:-$MGO_CACHE/k8s-$K8S}
ETCD_BIN=${MGO_ETCD_BIN:-$MGO_CACHE/etcd-$ETCD/etcd}
KUBECTL=$K8S_BIN_DIR/kubectl
if [ -x "$MGO_REPO/.venv/bin/python" ]; then MGO_PYTHON=$MGO_REPO/.venv/bin/python; else MGO_PYTHON=python3; fi

now_ms() { date +%s%3N; }

# wait_until DEADLINE_SECONDS DESCRIPTION CMD...: polls CMD every 0.1 s until it succeeds or the deadline passes.
wait_until() {
  local limit=$1 what=$2 start
  shift 2
  start=$(now_ms)
  until "$@" >/dev/null 2>&1; do
    if [ $(($(now_ms) - start)) -gt $((limit * 1000)) ]; then
      echo "timed out after ${limit}s waiting for: $what" >&2
      return 1
    fi
    sleep 0.1
  done
}

# pid_alive PID: true while PID exists and is not a zombie.
pid_alive() {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# stop_pid PID [GRACE_SECONDS]: SIGTERM, wait up to GRACE, then SIGKILL; waits until the process is gone.
stop_pid() {
  local pid=$1 grace=${2:-10} start
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  kill -CONT "$pid" 2>/dev/null || true
  start=$(now_ms)
  while pid_alive "$pid"; do
    if [ $(($(now_ms) - start)) -gt $((grace * 1000)) ]; then
      kill -KILL "$pid" 2>/dev/null || true
      start=$(now_ms)
      while pid_alive "$pid" && [ $(($(now_ms) - start)) -lt 5000 ]; do sleep 0.05; done
      return 0
    fi
    sleep 0.05
  done
}

# stop_pidfile FILE [GRACE]: stop the process recorded in FILE, then remove FILE.
stop_pidfile() {
  local file=$1 grace=${2:-10}
  [ -f "$file" ] || return 0
  stop_pid "$(cat "$file")" "$grace"
  rm -f "$file"
}

log_tail() {
  local dir=$1 f
  for f in "$dir"/log/*.log; do
    [ -f "$f" ] || continue
    echo "---- tail of $f" >&2
    tail -n "${2:-30}" "$f" >&2
  done
}
