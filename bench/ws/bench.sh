#!/usr/bin/env bash
# Side-by-side SIP-over-WebSocket load: N clients register (digest auth) and stay registered with
# keep-alives, first against the Kamailio anchor, then against the built Handset, same options.
# Prints ws-load's results, the ratios Handset/Kamailio and markdown rows for docs/benchmarks.md.
#
#   bash bench/ws/bench.sh                          (10,000 clients, concurrency 200, hold 30 s)
#   WS_CLIENTS=2000 WS_HOLD=10 bash bench/ws/bench.sh
#
# Environment (all optional; every WS_* option is read by ws-load.mjs itself, see --help):
#   WS_CLIENTS / WS_CONCURRENCY / WS_HOLD / WS_KEEPALIVE / WS_SOURCE_IPS   (10000 / 200 / 30 / 25 / auto)
#   BENCH_TARGETS   both | handset | kamailio                                (both)
#   ANCHOR          private | shared                                         (private)
#     private: a fresh Kamailio started here from bench/sip/kamailio-anchor.cfg with its ports
#              moved (free ports), tcp_max_connections raised to fit the clients and its shared memory
#              sized to them (-m WS_CLIENTS/10+512 MB); stopped at exit. kamailio.sh's anchor cannot hold
#              10,000 WS clients: 2048 TCP connections by default and -m 512 runs out near 6,000. A fresh
#              process also makes the memory delta honest (Kamailio keeps freed shm pages resident), and
#              the WS bindings stay off the shared anchor that other runs call user 9999 on.
#     shared:  the anchor of kamailio.sh (ws://127.0.0.1:5071/, pid file /tmp/kamailio-anchor.pid),
#              started if not running; subject to the caps above.
#   HANDSET_MAX_CONNECTIONS_PER_IP   passed to Handset                              (100000)
#   BENCH_KEEP=1  as in bench/sip/bench.sh
set -euo pipefail
# 10,000 sockets on the generator's side plus as many on the server's: raise the descriptor limit
# before anything is started (children inherit it). Root may raise the hard limit; others get the hard one.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
trap 'stop_private_kamailio; bench_cleanup' EXIT
trap 'exit 130' INT TERM

export WS_CLIENTS="${WS_CLIENTS:-10000}" WS_CONCURRENCY="${WS_CONCURRENCY:-200}" WS_HOLD="${WS_HOLD:-30}"
BENCH_TARGETS="${BENCH_TARGETS:-both}"; ANCHOR="${ANCHOR:-private}"
case "$BENCH_TARGETS" in both | handset | kamailio) ;; *) die "BENCH_TARGETS must be both, handset or kamailio";; esac
want() { [ "$BENCH_TARGETS" = both ] || [ "$BENCH_TARGETS" = "$1" ]; }
WS_LOAD="$BENCH_ROOT/bench/ws/ws-load.mjs"
[ -d "$BENCH_ROOT/node_modules/ws" ] || die "node_modules/ws missing: run npm install"
log "descriptor limit: $(ulimit -n)"

PRIVATE_KAMAILIO_PID=""
# A private anchor: the shared cfg with its ports moved and the TCP connection cap raised.
start_private_kamailio() {
  local cfg_in="$BENCH_ROOT/bench/sip/kamailio-anchor.cfg" cfg="$BENCH_WORK/kamailio-anchor.cfg"
  [ -f "$cfg_in" ] || die "no $cfg_in"
  command -v kamailio >/dev/null || die "kamailio not found: apt-get install -y kamailio kamailio-websocket-modules"
  # Each WS connection costs Kamailio ~80 kB of shared memory (a 64 kB WS buffer plus the TCP
  # connection); the anchor's -m 512 runs out near 6,000 clients, so size the pool to the run.
  local sip_port ws_port max=$((WS_CLIENTS + 1024)) shm=$((WS_CLIENTS / 10 + 512))
  sip_port="$(free_port)"; ws_port="$(free_port)"
  sed -e "s/127\.0\.0\.1:5070/127.0.0.1:$sip_port/g" -e "s/127\.0\.0\.1:5071/127.0.0.1:$ws_port/g" \
    -e "s#unix:/tmp/kamailio-anchor-ctl#unix:$BENCH_WORK/kamailio-ctl#" \
    -e "s/^tcp_accept_no_cl=yes$/tcp_accept_no_cl=yes\ntcp_max_connections=$max/" "$cfg_in" >"$cfg"
  grep -q "^tcp_max_connections=$max$" "$cfg" && grep -q ":$ws_port$" "$cfg" \
    || die "could not derive the private anchor cfg from $cfg_in (its listen lines changed?)"
  kamailio -f "$cfg" -P "$BENCH_WORK/kamailio.pid" -m "$shm" -M 64 -DD -E >"$BENCH_WORK/kamailio.log" 2>&1 &
  PRIVATE_KAMAILIO_PID=$!
  local deadline=$((SECONDS + 15))
  until (exec 3<>"/dev/tcp/127.0.0.1/$ws_port") 2>/dev/null; do
    kill -0 "$PRIVATE_KAMAILIO_PID" 2>/dev/null || { tail -n 20 "$BENCH_WORK/kamailio.log" >&2; PRIVATE_KAMAILIO_PID=""; die "private kamailio exited"; }
    [ "$SECONDS" -lt "$deadline" ] || die "private kamailio not listening on $ws_port after 15 s"
    sleep 0.2
  done
  KAMAILIO_WS_URL="ws://127.0.0.1:$ws_port/"; KAMAILIO_PID="$PRIVATE_KAMAILIO_PID"
  log "private kamailio anchor pid $PRIVATE_KAMAILIO_PID: $KAMAILIO_WS_URL, tcp_max_connections=$max, -m $shm"
}
stop_private_kamailio() {
  [ -n "$PRIVATE_KAMAILIO_PID" ] || return 0
  kill -TERM "$PRIVATE_KAMAILIO_PID" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$PRIVATE_KAMAILIO_PID" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$PRIVATE_KAMAILIO_PID" 2>/dev/null || true
  PRIVATE_KAMAILIO_PID=""
}

if want kamailio; then
  if [ "$ANCHOR" = private ]; then start_private_kamailio
  else ensure_kamailio; KAMAILIO_WS_URL="${KAMAILIO_WS_URL:-ws://127.0.0.1:5071/}"; KAMAILIO_PID="$(cat "$KAMAILIO_PIDFILE")"; fi
fi
if want handset; then start_handset; provision_handset "${HANDSET_DOMAIN:-127.0.0.1}"; fi

# run_ws LABEL URL PID DOMAIN -> prints ws-load's output; sets R_RATE R_FAILED R_PSS R_RSS R_STILL.
run_ws() {
  local out line
  out="$BENCH_WORK/ws-$1.txt"
  timeout 1800 node "$WS_LOAD" --label "$1" --url "$2" --pid "$3" --domain "$4" | tee "$out" || true
  line="$(grep '^ws-register:' "$out" | tail -n 1)"
  get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
  R_RATE="$(get rate_per_s)"; R_RATE="${R_RATE:-0}"; R_FAILED="$(get failed)"; R_FAILED="${R_FAILED:-?}"
  R_PSS="$(get pss_per_client_kb)"; R_RSS="$(get rss_per_client_kb)"; R_STILL="$(get still_connected)"
}

date_utc="$(date -u +%Y-%m-%d)"; commit="$(bench_commit)"
k_rate=""; k_pss=""; h_rate=""; h_pss=""
k_cells=(pending pending); h_cells=(pending pending)
if want kamailio; then
  echo "== Kamailio anchor ($ANCHOR) =="
  run_ws kamailio "$KAMAILIO_WS_URL" "$KAMAILIO_PID" "${KAMAILIO_DOMAIN:-127.0.0.1}"
  k_rate=$R_RATE; k_pss=$R_PSS
  k_cells=("${R_RATE}/s (${R_FAILED} failed)" "${R_PSS:-n/a} kB PSS, ${R_RSS:-n/a} kB RSS(main)")
fi
if want handset; then
  echo "== Handset =="
  run_ws handset "ws://127.0.0.1:$HANDSET_HTTP_PORT/sip" "$HANDSET_PID" "${HANDSET_DOMAIN:-127.0.0.1}"
  h_rate=$R_RATE; h_pss=$R_PSS
  h_cells=("${R_RATE}/s (${R_FAILED} failed)" "${R_PSS:-n/a} kB PSS, ${R_RSS:-n/a} kB RSS")
fi
r_rate="$(ratio "$h_rate" "$k_rate")"; r_mem="$(ratio "$h_pss" "$k_pss")"
if [ "$BENCH_TARGETS" = both ]; then
  echo "ratio REGISTER/s over WS Handset/Kamailio: $r_rate"
  echo "ratio memory per client (PSS) Handset/Kamailio: $r_mem (lower is better)"
fi
what="${WS_CLIENTS} clients, conc ${WS_CONCURRENCY}"
echo
echo "markdown rows for docs/benchmarks.md:"
echo "| $date_utc | $commit | \`bash bench/ws/bench.sh\` WS REGISTER+auth, $what | ${h_cells[0]} | ${k_cells[0]} | $r_rate |"
echo "| $date_utc | $commit | \`bash bench/ws/bench.sh\` memory per registered WS client, $what | ${h_cells[1]} | ${k_cells[1]} | $r_mem |"
