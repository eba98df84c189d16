#!/usr/bin/env bash
# Side-by-side SIP load: the built Handset against the Kamailio anchor, in one run, same SIPp scenarios
# (bench/sip/run.sh), same counts. Prints each run.sh line, the ratios Handset/Kamailio and
# markdown rows ready to paste into docs/benchmarks.md. Appends nothing anywhere.
#
#   npm run bench:sip                     (builds first, then runs this)
#   REGISTER_COUNT=30000 REGISTER_CONC=200 CALL_COUNT=5000 CALL_CONC=200 bash bench/sip/bench.sh
#
# Environment (all optional):
#   REGISTER_COUNT / REGISTER_CONC   authenticated REGISTERs and concurrency      (30000 / 200)
#   CALL_COUNT / CALL_CONC           authenticated calls and concurrency          (5000 / 200)
#   BENCH_TARGETS                    both | handset | kamailio                    (both)
#   BENCH_PHASES                     "register call", any subset, in that order   (register call)
#   BENCH_REPEAT                     runs per phase and target, order alternating; medians reported (5: this
#                                    host's speed moves by a third within minutes, and a median of 5 drops two
#                                    slow spells on either side)
#   BENCH_WARMUP                     runs per phase and target before those, printed but not counted (1):
#                                    both servers are long-running processes, and what a registrar sustains
#                                    is its steady state. The first run against a Node process just started
#                                    also pays for V8 compiling its hot code (about a sixth slower on REGISTER
#                                    in docs/benchmarks.md); that figure is printed as the warm-up line.
#   TRANSPORT                        SIPp transport passed to run.sh: u1 UDP, t1 TCP   (u1)
#   HANDSET_SIP_PORT / HANDSET_HTTP_PORT   ports for Handset                      (free ports)
#   KAMAILIO_TARGET                  anchor address                               (127.0.0.1:5070)
#   BENCH_KEEP=1                     keep the temp dir (Handset log, data)
#   BENCH_THREADS=1                  also print the CPU per scenario of each server thread
#   BENCH_FLOOR=1                    register phase: also run bench/sip/node-floor.mjs, the least a Node event
#                                    loop can do for the scenario (no parser, transactions or storage), and
#                                    print its rate and CPU against Kamailio's: what Node's sockets cost here
# Besides the rates it prints the server CPU (user+system, all threads and child processes) per successful
# scenario, a figure that moves much less than the rates when other work shares the cores.
# Before each call run the callee 9999 is unregistered at that target (Contact: *, unregister-all.xml):
# the register phase, earlier runs and other users of the shared anchor leave 9999 bound at SIPp ports
# that are closed by now, and both servers fork an INVITE to every binding, so stale ones would turn the
# call run into a measure of dead forks.
set -euo pipefail
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

REGISTER_COUNT="${REGISTER_COUNT:-30000}"; REGISTER_CONC="${REGISTER_CONC:-200}"
CALL_COUNT="${CALL_COUNT:-5000}"; CALL_CONC="${CALL_CONC:-200}"
BENCH_TARGETS="${BENCH_TARGETS:-both}"; BENCH_PHASES="${BENCH_PHASES:-register call}"
BENCH_REPEAT="${BENCH_REPEAT:-5}"; BENCH_WARMUP="${BENCH_WARMUP:-1}"
KAMAILIO_TARGET="${KAMAILIO_TARGET:-127.0.0.1:5070}"
export TRANSPORT="${TRANSPORT:-u1}"
RUN_SH="$BENCH_ROOT/bench/sip/run.sh"
[ -x "$RUN_SH" ] || die "no $RUN_SH"
command -v sipp >/dev/null || die "sipp not found: apt-get install -y sip-tester"
case "$BENCH_TARGETS" in both | handset | kamailio) ;; *) die "BENCH_TARGETS must be both, handset or kamailio";; esac
want() { [ "$BENCH_TARGETS" = both ] || [ "$BENCH_TARGETS" = "$1" ]; }

if want kamailio; then ensure_kamailio; fi
if want handset; then start_handset; provision_handset "${DOMAIN:-127.0.0.1}"; fi
FLOOR_PID=""
if [ "${BENCH_FLOOR:-0}" = 1 ]; then
  FLOOR_PORT="$(free_port)"
  node "$BENCH_ROOT/bench/sip/node-floor.mjs" --port "$FLOOR_PORT" >"$BENCH_WORK/floor.log" 2>&1 &
  FLOOR_PID=$!
  trap '[ -n "$FLOOR_PID" ] && kill "$FLOOR_PID" 2>/dev/null; bench_cleanup' EXIT
  sleep 0.5
fi

# run_one MODE TARGET COUNT CONC -> prints run.sh's line to stdout; sets RATE, OK, FAILED.
run_one() {
  local line
  local TIMEFORMAT='%U %S' times
  # bash's `time` reports the CPU of run.sh and its children: the load generator (SIPp).
  { time { line="$(timeout 420 "$RUN_SH" "$1" "$2" "$3" "$4" 2>&1 | tail -n 1)" || true; }; } 2>"$BENCH_WORK/time.txt"
  times="$(tail -n 1 "$BENCH_WORK/time.txt")"
  GEN_CPU_S="$(awk '{ print $1 + $2 }' <<<"$times")"
  [ -n "$line" ] || line="$1: target=$2 ok=0 failed=? rate_per_s=0 (run.sh gave no result)"
  echo "$line"
  RATE="$(sed -n 's/.*rate_per_s=\([0-9.]*\).*/\1/p' <<<"$line")"; RATE="${RATE:-0}"
  OK="$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$line")"; OK="${OK:-0}"
  FAILED="$(sed -n 's/.* failed=\([0-9?]*\).*/\1/p' <<<"$line")"; FAILED="${FAILED:-?}"
}

# cpu_ticks PID...: user+system CPU ticks (1/CLK_TCK s) of the processes (all their threads) and their children.
cpu_ticks() {
  local total=0 pid t
  for pid in "$@" $(for p in "$@"; do pgrep -P "$p" 2>/dev/null; done); do
    t="$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null)" || continue
    total=$((total + ${t:-0}))
  done
  echo "$total"
}
CLK_TCK="$(getconf CLK_TCK)"
# server_pids TARGET: the processes serving TARGET (handset | kamailio).
server_pids() {
  case "$1" in kamailio) cat "$KAMAILIO_PIDFILE" 2>/dev/null;; floor) echo "$FLOOR_PID";; *) echo "$HANDSET_PID";; esac
}
# thread_ticks PID...: one "tid name ticks" line per thread of the processes (BENCH_THREADS=1 breakdown).
thread_ticks() {
  local pid task
  for pid in "$@"; do
    for task in /proc/"$pid"/task/*; do
      echo "${task##*/} $(tr ' ' '_' <"$task/comm" 2>/dev/null) $(awk '{ print $14 + $15 }' "$task/stat" 2>/dev/null)"
    done
  done
}
# run_measured MODE TARGET-NAME ADDRESS COUNT CONC: run_one plus CPU_US, the server CPU per successful scenario.
run_measured() {
  local before after threads_before=""
  before="$(cpu_ticks $(server_pids "$2"))"
  [ "${BENCH_THREADS:-0}" = 1 ] && threads_before="$(thread_ticks $(server_pids "$2"))"
  run_one "$1" "$3" "$4" "$5"
  after="$(cpu_ticks $(server_pids "$2"))"
  CPU_US="$(python3 -c "print(round(($after - $before) * 1e6 / $CLK_TCK / max($OK, 1)))")"
  echo "  server CPU per scenario: ${CPU_US} us ($2); load generator (SIPp) $(python3 -c "print(round(${GEN_CPU_S:-0} * 1e6 / max($OK, 1)))") us"
  if [ "${BENCH_THREADS:-0}" = 1 ]; then
    # Per thread, in us per successful scenario: which thread (event loop, database worker, GC) spends it.
    join <(sort <<<"$threads_before") <(thread_ticks $(server_pids "$2") | sort) \
      | awk -v tck="$CLK_TCK" -v ok="$OK" '{ d = $5 - $3; if (d > 0) printf "    %-8s %-16s %6d us\n", $1, $2, d * 1e6 / tck / (ok > 0 ? ok : 1) }'
  fi
}

# median of integers (the lower middle for an even count), empty for none.
median() { if [ $# -gt 0 ]; then printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; fi; }

# clear_callee TARGET: unregisters every binding of 9999 (the callee of run.sh call) at TARGET.
clear_callee() {
  timeout 30 sipp "$1" -sf "$BENCH_ROOT/bench/sip/unregister-all.xml" -s 9999 -ap secret9999 \
    -key domain "${DOMAIN:-127.0.0.1}" -m 1 -t "$TRANSPORT" -i 127.0.0.1 -p "$(free_port)" -nostdin \
    -recv_timeout 5000 >"$BENCH_WORK/unregister.txt" 2>&1 \
    || log "WARNING: could not clear the bindings of 9999 at $1 (stale forks may slow the call run)"
}

date_utc="$(date -u +%Y-%m-%d)"; commit="$(bench_commit)"
transport_name="$([ "${TRANSPORT:0:1}" = t ] && echo TCP || echo UDP)"
rows=()
for phase in $BENCH_PHASES; do
  case "$phase" in
    register) count=$REGISTER_COUNT; conc=$REGISTER_CONC; what="REGISTER+auth";;
    call) count=$CALL_COUNT; conc=$CALL_CONC; what="call+auth";;
    *) die "unknown phase $phase";;
  esac
  k_rates=(); h_rates=(); k_cpu=(); h_cpu=(); k_failed=0; h_failed=0; f_rates=(); f_cpu=()
  for ((rep = 1; rep <= BENCH_WARMUP; rep++)); do
    for target in kamailio handset; do
      want "$target" || continue
      echo "warm-up run (not counted):"
      if [ "$target" = kamailio ]; then
        [ "$phase" = call ] && clear_callee "$KAMAILIO_TARGET"
        run_measured "$phase" kamailio "$KAMAILIO_TARGET" "$count" "$conc"
      else
        [ "$phase" = call ] && clear_callee "127.0.0.1:$HANDSET_SIP_PORT"
        run_measured "$phase" handset "127.0.0.1:$HANDSET_SIP_PORT" "$count" "$conc"
      fi
    done
  done
  for ((rep = 1; rep <= BENCH_REPEAT; rep++)); do
    # Alternate who goes first so neither side always gets the warmer (or the noisier) slot.
    if ((rep % 2)); then order="kamailio handset"; else order="handset kamailio"; fi
    [ -n "$FLOOR_PID" ] && [ "$phase" = register ] && order="$order floor"
    for target in $order; do
      if [ "$target" = floor ]; then
        run_measured register floor "127.0.0.1:$FLOOR_PORT" "$count" "$conc"; f_rates+=("$RATE"); f_cpu+=("$CPU_US")
        continue
      fi
      want "$target" || continue
      if [ "$target" = kamailio ]; then
        [ "$phase" = call ] && clear_callee "$KAMAILIO_TARGET"
        run_measured "$phase" kamailio "$KAMAILIO_TARGET" "$count" "$conc"; k_rates+=("$RATE"); k_cpu+=("$CPU_US"); k_failed=$((k_failed + ${FAILED//\?/1}))
      else
        [ "$phase" = call ] && clear_callee "127.0.0.1:$HANDSET_SIP_PORT"
        run_measured "$phase" handset "127.0.0.1:$HANDSET_SIP_PORT" "$count" "$conc"; h_rates+=("$RATE"); h_cpu+=("$CPU_US"); h_failed=$((h_failed + ${FAILED//\?/1}))
      fi
    done
  done
  k_rate="$(median "${k_rates[@]}")"; h_rate="$(median "${h_rates[@]}")"
  of=""; [ "$BENCH_REPEAT" -gt 1 ] && of=", median of $BENCH_REPEAT"
  [ "$BENCH_WARMUP" -gt 0 ] && of="${of}, after ${BENCH_WARMUP} warm-up run"
  k_cell="pending"; h_cell="pending"
  want kamailio && k_cell="${k_rate}/s (${k_failed} failed${of})"
  want handset && h_cell="${h_rate}/s (${h_failed} failed${of})"
  [ "$phase" = call ] && want handset && [ "$h_failed" != 0 ] && log "WARNING: Handset failed $h_failed calls (target: 0)"
  r="$(ratio "$h_rate" "$k_rate")"
  [ "$BENCH_TARGETS" = both ] && echo "ratio $phase Handset/Kamailio: $r (medians: $h_rate / $k_rate)"
  k_us="$(median "${k_cpu[@]}")"; h_us="$(median "${h_cpu[@]}")"
  [ "$BENCH_TARGETS" = both ] && echo "server CPU per $phase scenario: Handset ${h_us} us, Kamailio ${k_us} us (Kamailio/Handset $(ratio "$k_us" "$h_us"))"
  if [ "${#f_rates[@]}" -gt 0 ]; then
    f_rate="$(median "${f_rates[@]}")"
    echo "node floor (bench/sip/node-floor.mjs): ${f_rate}/s, $(median "${f_cpu[@]}") us per scenario; floor/Kamailio $(ratio "$f_rate" "$k_rate"), Handset/floor $(ratio "$h_rate" "$f_rate")"
  fi
  rows+=("| $date_utc | $commit | \`npm run bench:sip\` $what ${count}/${conc} $transport_name | $h_cell | $k_cell | $r |")
done

echo
echo "markdown rows for docs/benchmarks.md:"
printf '%s\n' "${rows[@]}"
