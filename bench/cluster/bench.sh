#!/usr/bin/env bash
# Cluster overhead: authenticated REGISTER and call rates through Kamailio dispatcher to 1, 2 and 3
# Handset nodes (PostgreSQL + Redis), against one node alone (PostgreSQL, no Redis, no balancer),
# all in the same run, same SIPp scenarios (test/e2e/fixtures/sipp). On one machine whose cores
# everything shares, this measures what the cluster costs, not how it scales out.
#
#   npm run bench:cluster                 (builds first, then runs this)
#   REGISTER_COUNT=5000 CALL_COUNT=1000 BENCH_REPEAT=3 bash bench/cluster/bench.sh
#
# Environment (all optional): REGISTER_COUNT / REGISTER_CONC (5000 / 100), CALL_COUNT / CALL_CONC
# (1000 / 50), BENCH_REPEAT (3: runs per phase and target, in rotating order; medians reported),
# plus those of cluster-lib.sh (PG_ADMIN_URL, REDIS_URL...).
# Prints one line per run, then markdown rows for docs/benchmarks.md with each rate's ratio to the
# node alone.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster-lib.sh"
trap cluster_cleanup EXIT
trap 'exit 130' INT TERM
command -v sipp >/dev/null || cdie "sipp not found: apt-get install -y sip-tester"
REGISTER_COUNT="${REGISTER_COUNT:-5000}"; REGISTER_CONC="${REGISTER_CONC:-100}"
CALL_COUNT="${CALL_COUNT:-1000}"; CALL_CONC="${CALL_CONC:-50}"
BENCH_REPEAT="${BENCH_REPEAT:-3}"
DOMAIN="bench.test"
SCENARIOS="$CLUSTER_ROOT/test/e2e/fixtures/sipp"

cluster_database
for i in 1 2 3; do cluster_start_node "$i"; done
# Node 4 is the anchor: a node alone, same database and key, no REDIS_URL.
NODE_SIP_PORTS[3]="$(cluster_free_port)"; NODE_HTTP_PORTS[3]="$(cluster_free_port)"
mkdir -p "$CLUSTER_WORK/node-4"
cluster_node_env 4
env "${NODE_ENV[@]}" REDIS_URL= node "$HANDSET_CLI" start >>"$CLUSTER_WORK/node-4.log" 2>&1 &
CLUSTER_PIDS+=("$!")
until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:${NODE_HTTP_PORTS[3]}/healthz" 2>/dev/null; do sleep 0.3; done

clog "provisioning users 1000-10999 and callees 9900-9999..."
cluster_cli 1 domains add "$DOMAIN" >/dev/null
{ echo 'ext,password,name'; for ((u = 1000; u < 11000; u++)); do echo "$u,secret$u,U$u"; done; } >"$CLUSTER_WORK/users.csv"
cluster_cli 1 users import "$CLUSTER_WORK/users.csv" --domain "$DOMAIN" >/dev/null
{ echo SEQUENTIAL; for ((u = 1000; u < 9900; u++)); do echo "$u;secret$u;$DOMAIN"; done; } >"$CLUSTER_WORK/sipp-users.csv"

# One balancer per cluster size (1, 2, 3 nodes), each in front of the first N nodes.
declare -A TARGET
TARGET[alone]="127.0.0.1:${NODE_SIP_PORTS[3]}"
for n in 1 2 3; do
  BALANCER_PORT=""
  cluster_start_balancer "$n"
  TARGET[lb$n]="127.0.0.1:$BALANCER_PORT"
done
sleep 2

bport() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
counts() { # sipp output -> "ok failed"
  local ok fail
  ok=$(grep -a "Successful call" "$1" | tail -1 | awk -F'|' '{gsub(/ /,"",$3); print $3}')
  fail=$(grep -a "Failed call" "$1" | tail -1 | awk -F'|' '{gsub(/ /,"",$3); print $3}')
  echo "${ok:-0} ${fail:-0}"
}
CALLEE=9900
# run PHASE TARGET -> sets RATE
run() {
  local phase="$1" target="$2" out="$CLUSTER_WORK/run.txt" start end ok fail uas_pid=""
  if [ "$phase" = register ]; then
    start=$(date +%s.%N)
    timeout 300 sipp "$target" -sf "$SCENARIOS/register.xml" -inf "$CLUSTER_WORK/sipp-users.csv" -m "$REGISTER_COUNT" \
      -r 100000 -l "$REGISTER_CONC" -t u1 -i 127.0.0.1 -p "$(bport)" -nostdin -timeout 280 -buff_size 8388608 \
      -recv_timeout 10000 >"$out" 2>&1 || true
  else
    # A callee of its own per run: earlier runs' callees are bound at SIPp ports closed by now.
    CALLEE=$((CALLEE + 1))
    local uas_port; uas_port="$(bport)"
    timeout 20 sipp "$target" -sf "$SCENARIOS/register-one.xml" -s "$CALLEE" -ap "secret$CALLEE" -key domain "$DOMAIN" \
      -m 1 -t u1 -i 127.0.0.1 -p "$uas_port" -nostdin >"$CLUSTER_WORK/reg.txt" 2>&1 || true
    sipp -sf "$SCENARIOS/call-uas.xml" -t u1 -i 127.0.0.1 -p "$uas_port" -nostdin -buff_size 8388608 >/dev/null 2>&1 &
    uas_pid=$!
    sleep 0.5
    start=$(date +%s.%N)
    timeout 300 sipp "$target" -sf "$SCENARIOS/call-uac.xml" -inf "$CLUSTER_WORK/sipp-users.csv" -s "$CALLEE" \
      -m "$CALL_COUNT" -r 100000 -l "$CALL_CONC" -t u1 -i 127.0.0.1 -p "$(bport)" -nostdin -timeout 280 \
      -buff_size 8388608 -recv_timeout 10000 >"$out" 2>&1 || true
  fi
  end=$(date +%s.%N)
  [ -n "$uas_pid" ] && { kill "$uas_pid" 2>/dev/null || true; wait "$uas_pid" 2>/dev/null || true; }
  read -r ok fail < <(counts "$out")
  RATE=$(python3 -c "print(round($ok/($end-$start)))")
  echo "$phase: target=$3 ($target) ok=$ok failed=$fail rate_per_s=$RATE"
}

declare -A RATES
NAMES=(alone lb1 lb2 lb3)
for phase in register call; do
  for ((r = 0; r < BENCH_REPEAT; r++)); do
    # Rotate the order so no target always runs first (or last) in a round.
    for ((k = 0; k < 4; k++)); do
      name="${NAMES[$(((k + r) % 4))]}"
      run "$phase" "${TARGET[$name]}" "$name"
      RATES[$phase.$name]="${RATES[$phase.$name]:-} $RATE"
    done
  done
done

median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo
echo "| phase | one node alone | 1 node via dispatcher | 2 nodes | 3 nodes |"
echo "| --- | --- | --- | --- | --- |"
for phase in register call; do
  a="$(median "${RATES[$phase.alone]}")"
  row="| $phase/s (median of $BENCH_REPEAT) | $a"
  for name in lb1 lb2 lb3; do
    m="$(median "${RATES[$phase.$name]}")"
    row="$row | $m ($(python3 -c "print(f'{$m/$a:.2f}x' if $a else 'n/a')"))"
  done
  echo "$row |"
done
