# Shared by the setup scripts: pinned versions, the build cache, and progress output.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../versions.env
source "$ROOT/tools/versions.env"
# Builds live outside the work tree so every clone (CI's included) reuses them.
CACHE="${CHATCLUSTER_CACHE:-$HOME/.cache/chatcluster}"
BIN="$CACHE/bin"
STAMPS="$CACHE/stamps"
mkdir -p "$BIN" "$STAMPS"

say() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[setup] FAILED: %s\n' "$*" >&2; exit 1; }

# up_to_date NAME KEY: true when NAME was last built with the same KEY.
up_to_date() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
mark_built() { printf '%s' "$2" > "$STAMPS/$1"; }

# Runs a long command, printing a heartbeat so a cold build is never silent.
with_heartbeat() {
  local label=$1; shift
  "$@" &
  local pid=$! started=$SECONDS next=20
  # Checked every second (a quick build is not held up), reported every 20 s.
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if [ $((SECONDS - started)) -ge $next ] && kill -0 "$pid" 2>/dev/null; then
      say "$label: still building ($((SECONDS - started)) s)"
      next=$((next + 20))
    fi
  done
  wait "$pid"
}
