#!/usr/bin/env bash
# Bridged call set-up through Handset + rtpengine against Kamailio (its rtpengine module) driving the SAME
# rtpengine, in one run: SIPp callers with RTP (G.711 A-law played from a pcap) to a plain-RTP SIPp callee
# that echoes it back, every call's media anchored (Handset: HANDSET_MEDIA_ANCHOR=always). Prints each run,
# the rate ratio Handset/Kamailio, the set-up time (authorized INVITE -> 200) p50/p95 through each, and
# Handset's memory per held call. Appends nothing anywhere.
#
#   npm run bench:media                      (builds first, then runs this)
#   CALL_COUNT=2000 CALL_CONC=100 HOLD_MS=1000 HELD_CALLS=300 bash bench/media/bench.sh
#
# Environment (all optional):
#   CALL_COUNT / CALL_CONC / CALL_RATE  calls per run, concurrency, calls per second offered (1500 / 100 / 150)
#   HOLD_MS                             RTP time per call before BYE (1000)
#   BENCH_REPEAT                        runs per target, alternating; medians reported (3)
#   HELD_CALLS / HELD_MS                memory phase: calls held at once, and for how long (300 / 15000)
#   RTP_PORT_MIN                        the rtpengine's media port range start (random), 6000 ports
#   BENCH_KEEP=1                        keep the temp dir (logs, SIPp output)
set -euo pipefail
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
HERE="$BENCH_ROOT/bench/media"
RTPE_PID=""; KAM_PID=""; UAS_PID=""
media_cleanup() {
  for p in "$UAS_PID" "$KAM_PID" "$RTPE_PID"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  bench_cleanup
}
trap media_cleanup EXIT
trap 'exit 130' INT TERM

CALL_COUNT="${CALL_COUNT:-1500}"; CALL_CONC="${CALL_CONC:-100}"; CALL_RATE="${CALL_RATE:-150}"
HOLD_MS="${HOLD_MS:-1000}"; BENCH_REPEAT="${BENCH_REPEAT:-3}"
HELD_CALLS="${HELD_CALLS:-300}"; HELD_MS="${HELD_MS:-15000}"
command -v sipp >/dev/null || die "sipp not found: apt-get install -y sip-tester"
command -v kamailio >/dev/null || die "kamailio not found: apt-get install -y kamailio"
RTPENGINE="$(command -v rtpengine || echo /usr/bin/rtpengine)"
[ -x "$RTPENGINE" ] || die "rtpengine not found: apt-get install -y rtpengine-daemon"

# One rtpengine for both proxies (userspace forwarding, as Handset runs its private one).
NG_PORT="$(free_port)"
RTP_PORT_MIN="${RTP_PORT_MIN:-$((20000 + RANDOM % 30000))}"
"$RTPENGINE" --config-file=none --table=-1 --foreground --log-stderr --log-level=4 --interface=127.0.0.1 \
  --listen-ng="127.0.0.1:$NG_PORT" --port-min="$RTP_PORT_MIN" --port-max="$((RTP_PORT_MIN + 5999))" \
  --delete-delay=0 --num-threads=2 >"$BENCH_WORK/rtpengine.log" 2>&1 &
RTPE_PID=$!
sleep 0.5
kill -0 "$RTPE_PID" 2>/dev/null || { cat "$BENCH_WORK/rtpengine.log" >&2; die "rtpengine did not start"; }
log "rtpengine pid $RTPE_PID: ng 127.0.0.1:$NG_PORT, media ports $RTP_PORT_MIN-$((RTP_PORT_MIN + 5999))"

# Kamailio with the rtpengine module on its own port.
KAM_PORT="$(free_port)"
sed -e "s/@PORT@/$KAM_PORT/" -e "s/@RTPENGINE@/127.0.0.1:$NG_PORT/" "$HERE/kamailio-media.cfg" >"$BENCH_WORK/kamailio.cfg"
kamailio -f "$BENCH_WORK/kamailio.cfg" -DD -E -m 256 -M 32 >"$BENCH_WORK/kamailio.log" 2>&1 &
KAM_PID=$!
sleep 1
kill -0 "$KAM_PID" 2>/dev/null || { tail -20 "$BENCH_WORK/kamailio.log" >&2; die "kamailio did not start"; }
log "kamailio pid $KAM_PID on 127.0.0.1:$KAM_PORT (rtpengine module)"

# Handset driving the same rtpengine, anchoring every call.
export HANDSET_RTPENGINE="udp:127.0.0.1:$NG_PORT" HANDSET_MEDIA_ANCHOR=always
# A fresh embedded database takes most of a minute to open on a loaded 2-core host.
export HANDSET_START_TIMEOUT_S="${HANDSET_START_TIMEOUT_S:-240}"
start_handset
provision_handset 127.0.0.1

{ echo SEQUENTIAL; for ((i = 1000; i < 9999; i++)); do echo "$i;secret$i;127.0.0.1"; done; } >"$BENCH_WORK/users.csv"
printf 'SEQUENTIAL\n127.0.0.1;\n' >"$BENCH_WORK/domain.csv"
port() { free_port; }

# register_callee TARGET UAS_PORT: 9999 bound at the SIPp callee.
register_callee() {
  timeout 20 sipp "$1" -sf "$HERE/register-one.xml" -inf "$BENCH_WORK/domain.csv" -s 9999 -m 1 -t u1 \
    -i 127.0.0.1 -p "$2" -nostdin >"$BENCH_WORK/reg.txt" 2>&1 || { cat "$BENCH_WORK/reg.txt" >&2; die "9999 could not register at $1"; }
}

# run_calls NAME TARGET COUNT CONC RATE HOLD -> sets RATE_OUT OK FAILED P50 P95
run_calls() {
  local name="$1" target="$2" count="$3" conc="$4" rate="$5" hold="$6" dir="$BENCH_WORK/$1"
  rm -rf "$dir"; mkdir -p "$dir"
  local uas_port; uas_port="$(port)"
  register_callee "$target" "$uas_port"
  (cd "$dir" && exec sipp -sf "$HERE/uas.xml" -t u1 -i 127.0.0.1 -p "$uas_port" -mp "$(port)" -rtp_echo -nostdin \
    -buff_size 8388608 >uas.txt 2>&1) &
  UAS_PID=$!
  sleep 0.5
  local start end
  start=$(date +%s.%N)
  (cd "$dir" && timeout 600 sipp "$target" -sf "$HERE/uac.xml" -inf "$BENCH_WORK/users.csv" -s 9999 -m "$count" \
    -r "$rate" -l "$conc" -d "$hold" -t u1 -i 127.0.0.1 -p "$(port)" -mp "$(port)" -nostdin -timeout 560 \
    -buff_size 8388608 -recv_timeout 10000 -trace_rtt -rtt_freq 1 -trace_err >uac.txt 2>&1) || true
  end=$(date +%s.%N)
  kill "$UAS_PID" 2>/dev/null || true; wait "$UAS_PID" 2>/dev/null || true; UAS_PID=""
  OK=$(grep -a "Successful call" "$dir/uac.txt" | tail -1 | awk -F'|' '{gsub(/ /,"",$3); print $3}'); OK="${OK:-0}"
  FAILED=$(grep -a "Failed call" "$dir/uac.txt" | tail -1 | awk -F'|' '{gsub(/ /,"",$3); print $3}'); FAILED="${FAILED:-?}"
  # Completed calls per second of wall time, minus the held RTP time each call spends after set-up.
  RATE_OUT=$(python3 -c "print(round($OK/max(0.001,($end-$start)-$hold/1000)))")
  read -r P50 P95 < <(python3 - "$dir" <<'PY'
import glob, sys
v = []
for f in glob.glob(sys.argv[1] + '/*_rtt.csv'):
    for line in open(f):
        p = line.strip().split(';')
        if len(p) >= 2:
            try: v.append(float(p[1]))
            except ValueError: pass
v.sort()
q = lambda x: v[min(len(v) - 1, int(x * len(v)))] if v else float('nan')
print(f"{q(0.5):.1f} {q(0.95):.1f}")
PY
)
  echo "$name: ok=$OK failed=$FAILED rate_per_s=$RATE_OUT setup_ms_p50=$P50 setup_ms_p95=$P95"
}

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

declare -a H_RATE K_RATE H_P50 K_P50 H_P95 K_P95
H_FAIL=0; K_FAIL=0
log "warm-up run each (not counted)"
run_calls warmup-handset "127.0.0.1:$HANDSET_SIP_PORT" 200 "$CALL_CONC" "$CALL_RATE" "$HOLD_MS" >&2
run_calls warmup-kamailio "127.0.0.1:$KAM_PORT" 200 "$CALL_CONC" "$CALL_RATE" "$HOLD_MS" >&2
for ((i = 1; i <= BENCH_REPEAT; i++)); do
  order=(handset kamailio); ((i % 2 == 0)) && order=(kamailio handset)
  for t in "${order[@]}"; do
    if [ "$t" = handset ]; then
      run_calls "handset#$i" "127.0.0.1:$HANDSET_SIP_PORT" "$CALL_COUNT" "$CALL_CONC" "$CALL_RATE" "$HOLD_MS"
      H_RATE+=("$RATE_OUT"); H_P50+=("$P50"); H_P95+=("$P95"); [ "$FAILED" = 0 ] || H_FAIL=$((H_FAIL + ${FAILED/\?/1}))
    else
      run_calls "kamailio#$i" "127.0.0.1:$KAM_PORT" "$CALL_COUNT" "$CALL_CONC" "$CALL_RATE" "$HOLD_MS"
      K_RATE+=("$RATE_OUT"); K_P50+=("$P50"); K_P95+=("$P95"); [ "$FAILED" = 0 ] || K_FAIL=$((K_FAIL + ${FAILED/\?/1}))
    fi
  done
done

# Sessions left in rtpengine after every call ended (both proxies delete theirs): should be 0.
LEFT=$(node --input-type=module -e "
  const { NgClient } = await import('$BENCH_ROOT/apps/server/dist/media/ng-client.js');
  const c = new NgClient({ host: '127.0.0.1', port: $NG_PORT });
  const r = await c.request('list', { limit: 100000 }); c.close();
  console.log(Array.isArray(r.calls) ? r.calls.length : '?');")

# Memory: Handset's RSS while HELD_CALLS bridged calls are up at once, against before.
rss() { awk '/VmRSS/ { print $2 }' "/proc/$HANDSET_PID/status"; }
RSS0=$(rss)
run_calls held-handset "127.0.0.1:$HANDSET_SIP_PORT" "$HELD_CALLS" "$HELD_CALLS" 200 "$HELD_MS" >"$BENCH_WORK/held.txt" &
HELD_JOB=$!
sleep $(( (HELD_CALLS / 200) + HELD_MS / 2000 + 1 ))
RSS1=$(rss)
wait "$HELD_JOB" || true
cat "$BENCH_WORK/held.txt"

HR=$(median "${H_RATE[@]}"); KR=$(median "${K_RATE[@]}")
echo
echo "bench:media  commit $(bench_commit)  $(date -u +%Y-%m-%dT%H:%MZ)  calls=$CALL_COUNT conc=$CALL_CONC offered=${CALL_RATE}/s rtp=${HOLD_MS}ms repeat=$BENCH_REPEAT"
echo "| target | bridged calls/s (median) | set-up p50 ms | set-up p95 ms | failed |"
echo "| --- | --- | --- | --- | --- |"
echo "| Handset + rtpengine | $HR | $(median "${H_P50[@]}") | $(median "${H_P95[@]}") | $H_FAIL |"
echo "| Kamailio + rtpengine | $KR | $(median "${K_P50[@]}") | $(median "${K_P95[@]}") | $K_FAIL |"
echo "ratio Handset/Kamailio (rate): $(ratio "$HR" "$KR")"
echo "rtpengine sessions left after the runs: $LEFT"
echo "Handset RSS: ${RSS0} kB idle, ${RSS1} kB with $HELD_CALLS bridged calls up: $(( (RSS1 - RSS0) / HELD_CALLS )) kB per call"
