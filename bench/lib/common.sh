# Shared helpers for the side-by-side benchmarks (sourced by bench/sip/bench.sh and bench/ws/bench.sh).
# Starts the BUILT Handset on a temp data dir, provisions the bench users, and makes sure the Kamailio
# anchor runs; everything started here is recorded so that bench_cleanup (run from trap EXIT) stops
# exactly that, by PID, and nothing else.

BENCH_ROOT="$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel 2>/dev/null \
  || (cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd))"
# The SIPp scenarios, run.sh and the Kamailio anchor (kamailio.sh, kamailio-anchor.cfg) live in bench/sip.
ANCHOR_DIR="$BENCH_ROOT/bench/sip"
# HANDSET_CLI may point at another build of the CLI (same commands: start, domains add, users import).
HANDSET_CLI="${HANDSET_CLI:-$BENCH_ROOT/apps/server/dist/cli/main.js}"
KAMAILIO_PIDFILE="${KAMAILIO_PIDFILE:-/tmp/kamailio-anchor.pid}"

BENCH_WORK="$(mktemp -d /tmp/handset-bench.XXXXXX)"
HANDSET_PID=""
KAMAILIO_STARTED_BY_US=""

log() { printf '%s\n' "$*" >&2; }
die() { log "bench: $*"; exit 1; }

# shellcheck source=free-port.sh
source "$(dirname "${BASH_SOURCE[0]}")/free-port.sh"

# Runs a command with the environment the server and the CLI share (the CLI finds the running server
# through it): `timeout N env "${HANDSET_ENV[@]}" node ...`.
set_handset_env() {
  HANDSET_ENV=(HANDSET_DATA_DIR="$BENCH_WORK/handset-data" HANDSET_BIND=127.0.0.1 HANDSET_PUBLIC_HOST=127.0.0.1
    HANDSET_SIP_PORT="$HANDSET_SIP_PORT" HANDSET_HTTP_PORT="$HANDSET_HTTP_PORT"
    HANDSET_LOG_LEVEL="${HANDSET_LOG_LEVEL:-warn}" HANDSET_SIP_TRACE="${HANDSET_SIP_TRACE:-0}"
    HANDSET_MAX_CONNECTIONS_PER_IP="${HANDSET_MAX_CONNECTIONS_PER_IP:-100000}")
}

# Starts the built Handset in the background and waits (at most $HANDSET_START_TIMEOUT_S, 60 s) for GET /healthz 200.
start_handset() {
  [ -f "$HANDSET_CLI" ] || die "$HANDSET_CLI not found: run npm run build first"
  HANDSET_SIP_PORT="${HANDSET_SIP_PORT:-$(free_port)}"
  HANDSET_HTTP_PORT="${HANDSET_HTTP_PORT:-$(free_port)}"
  mkdir -p "$BENCH_WORK/handset-data"
  set_handset_env
  env "${HANDSET_ENV[@]}" node ${HANDSET_NODE_FLAGS:-} "$HANDSET_CLI" start >"$BENCH_WORK/handset.log" 2>&1 &
  HANDSET_PID=$!
  local deadline=$((SECONDS + ${HANDSET_START_TIMEOUT_S:-60}))
  until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$HANDSET_HTTP_PORT/healthz" 2>/dev/null; do
    if ! kill -0 "$HANDSET_PID" 2>/dev/null; then
      tail -n 30 "$BENCH_WORK/handset.log" >&2; HANDSET_PID=""; die "handset exited during startup"
    fi
    [ "$SECONDS" -lt "$deadline" ] || { tail -n 30 "$BENCH_WORK/handset.log" >&2; die "handset not healthy after ${HANDSET_START_TIMEOUT_S:-60} s"; }
    sleep 0.2
  done
  log "handset pid $HANDSET_PID: sip 127.0.0.1:$HANDSET_SIP_PORT (udp/tcp), http 127.0.0.1:$HANDSET_HTTP_PORT"
}

# Domain 127.0.0.1 (or $1) and users 1000..10999 with password secret<user>, through the running server.
provision_handset() {
  local domain="${1:-127.0.0.1}" csv="$BENCH_WORK/users.csv"
  { echo "ext,password"; for ((i = 1000; i < 11000; i++)); do echo "$i,secret$i"; done; } >"$csv"
  timeout 120 env "${HANDSET_ENV[@]}" node "$HANDSET_CLI" domains add "$domain" >/dev/null \
    || die "handset domains add $domain failed"
  local t0=$SECONDS
  timeout 300 env "${HANDSET_ENV[@]}" node "$HANDSET_CLI" users import "$csv" --domain "$domain" >/dev/null \
    || die "handset users import failed"
  log "handset provisioned domain $domain, users 1000..10999 ($((SECONDS - t0)) s)"
}

# Uses the anchor if it already runs (and leaves it running); otherwise starts it and stops it on exit.
ensure_kamailio() {
  if [ -f "$KAMAILIO_PIDFILE" ] && kill -0 "$(cat "$KAMAILIO_PIDFILE")" 2>/dev/null; then
    log "kamailio anchor already running (pid $(cat "$KAMAILIO_PIDFILE")): using it, leaving it running"
  else
    [ -x "$ANCHOR_DIR/kamailio.sh" ] || die "no $ANCHOR_DIR/kamailio.sh"
    "$ANCHOR_DIR/kamailio.sh" start >&2
    [ -f "$KAMAILIO_PIDFILE" ] && kill -0 "$(cat "$KAMAILIO_PIDFILE")" 2>/dev/null \
      || die "kamailio anchor did not start (see /tmp/kamailio-anchor.log)"
    KAMAILIO_STARTED_BY_US=1
  fi
}

# Stops what this script started (by PID), removes the temp dir. Safe to call twice.
bench_cleanup() {
  if [ -n "$HANDSET_PID" ] && kill -0 "$HANDSET_PID" 2>/dev/null; then
    kill -TERM "$HANDSET_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$HANDSET_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$HANDSET_PID" 2>/dev/null || true
  fi
  HANDSET_PID=""
  if [ -n "$KAMAILIO_STARTED_BY_US" ]; then "$ANCHOR_DIR/kamailio.sh" stop >/dev/null 2>&1 || true; fi
  KAMAILIO_STARTED_BY_US=""
  [ -n "${BENCH_KEEP:-}" ] && log "kept $BENCH_WORK" || rm -rf "$BENCH_WORK"
}

# ratio A B -> A/B with two decimals, or "n/a".
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f\n", a / b }'; }

# Commit of the tree being measured (with +dirty when there are uncommitted changes).
bench_commit() {
  local c; c="$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  git -C "$BENCH_ROOT" diff --quiet HEAD -- apps packages 2>/dev/null || c="$c+dirty"
  echo "$c"
}
