#!/usr/bin/env bash
# Provisioning storm: 10,000 activated SessionTalk apps re-provisioning at once (a fleet coming back
# after an outage), against the built Handset, and the same requests against nginx serving a static
# file of the same size as Handset's answer, in the same run. Prints prov-load's results, the ratios
# Handset/nginx and markdown rows for docs/benchmarks.md.
#
#   bash bench/provisioning/bench.sh                      (10,000 devices, 300 connections, 3 rounds)
#   PROV_DEVICES=2000 PROV_ROUNDS=1 bash bench/provisioning/bench.sh
#
# Set-up: one domain with 10,000 users (CLI users import), a superadmin API token, then per user an
# activation code and the app's first request (reprovision=false, a fresh deviceId), so that 10,000
# devices exist and each has its json_md5. Codes are stateless: by default prov-load seals them with
# Handset's own codec and the server key of the temp data dir (PROV_CODES=direct); PROV_CODES=rest
# asks POST /api/v1/provisioning/codes instead (the console's call; it draws the QR images too and
# makes the set-up of 10,000 take ~20 minutes on a busy 2-core machine).
# Each round then runs, alternating the targets so that both see the same machine:
#   1. Handset, json_md5 stored (the common case: every answer update:false)
#   2. nginx, a static copy of one such answer (median size)
#   3. json_md5 cleared on every device (PATCH /devices/:id), then Handset again: update:true
#   4. nginx with a copy of one of those answers
# Every answer is checked (200, the expected update flag, the device's own account): errors must be 0.
# Desk phones (PROV_SCENARIOS contains desk): PROV_DEVICES Yealink phones created over
# POST /api/v1/devices (line 1 = one user each), then per round every phone fetches GET /prov/<mac>.cfg
# with its User-Agent (each answer must be a Yealink file whose account 1 is its user), and nginx
# serves one such file (median size) for the same requests.
#   PROV_SCENARIOS        which storms: sessiontalk and/or desk                      (sessiontalk desk)
#
# Environment (all optional; every PROV_* option is also read by prov-load.mjs itself, see --help):
#   PROV_DEVICES / PROV_CONCURRENCY / PROV_ROUNDS   (10000 / 300 / 3)
#   PROV_CODES direct|rest  how the set-up gets its codes (above)                        (direct)
#   PROV_KEEPALIVE 1|0    connections reused (the cloud's HTTP client) or one per request   (1)
#   PROV_DOMAIN           (prov.bench.example)
#   NGINX_WORKERS         worker_processes of the anchor                                 (auto)
#   HANDSET_PROVISION_RATE_LIMIT passed to Handset (0: off; at 60/min per source the storm would
#                         be 429s after its first 60 requests, all from 127.0.0.1)         (0)
#   HANDSET_NODE_FLAGS    e.g. --cpu-prof --cpu-prof-dir=/tmp/prof (see docs/benchmarks.md)
#   BENCH_KEEP=1  as in bench/sip/bench.sh
set -euo pipefail
# 300 connections on each side, plus Handset's own; children inherit the limit.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
trap 'stop_nginx; bench_cleanup' EXIT
trap 'exit 130' INT TERM

export PROV_DEVICES="${PROV_DEVICES:-10000}" PROV_CONCURRENCY="${PROV_CONCURRENCY:-300}"
export PROV_DOMAIN="${PROV_DOMAIN:-prov.bench.example}"
# sessiontalk: the app re-provisioning storm; desk: the same number of desk phones fetching <mac>.cfg.
PROV_SCENARIOS="${PROV_SCENARIOS:-sessiontalk desk}"
export HANDSET_PROVISION_RATE_LIMIT="${HANDSET_PROVISION_RATE_LIMIT:-0}"
PROV_ROUNDS="${PROV_ROUNDS:-3}"
[ "$PROV_DEVICES" -ge 1 ] && [ "$PROV_DEVICES" -le 10000 ] || die "PROV_DEVICES must be 1..10000 (one user each, 1000..10999)"
[ "$PROV_ROUNDS" -ge 1 ] || die "PROV_ROUNDS must be at least 1"
PROV_LOAD="$BENCH_ROOT/bench/provisioning/prov-load.mjs"

if ! command -v nginx >/dev/null; then
  log "nginx (the anchor) is not installed: installing Debian's nginx with apt-get (no service is started)"
  [ "$(id -u)" = 0 ] || die "not root: install it with sudo apt-get install -y nginx"
  # A policy-rc.d answering 101 keeps the package from starting a system nginx on port 80.
  policy=""; [ -e /usr/sbin/policy-rc.d ] || { policy=/usr/sbin/policy-rc.d; printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y nginx >&2 \
    || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y nginx >&2; } || true
  [ -z "$policy" ] || rm -f "$policy"
  command -v nginx >/dev/null || die "nginx still not found after apt-get install"
fi

NGINX_PID=""
NGINX_ROOT="$BENCH_WORK/nginx-root"
# nginx on a free port with a private config: no daemon, pid and logs in the temp dir, the static
# answer served at Handset's own path so that the request bytes are the same.
start_nginx() {
  local port conf="$BENCH_WORK/nginx.conf"
  port="$(free_port)"
  mkdir -p "$NGINX_ROOT" "$BENCH_WORK/nginx-tmp"
  # Workers run as nobody when the master is root: they may cross the temp dir but not list it.
  chmod 711 "$BENCH_WORK"; chmod 755 "$NGINX_ROOT"
  echo '{}' >"$NGINX_ROOT/provision.json"; chmod 644 "$NGINX_ROOT/provision.json"
  echo '#' >"$NGINX_ROOT/desk.cfg"; chmod 644 "$NGINX_ROOT/desk.cfg"
  cat >"$conf" <<EOF
worker_processes ${NGINX_WORKERS:-auto};
daemon off;
pid $BENCH_WORK/nginx.pid;
error_log $BENCH_WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $BENCH_WORK/nginx-tmp/body;
  proxy_temp_path $BENCH_WORK/nginx-tmp/proxy;
  fastcgi_temp_path $BENCH_WORK/nginx-tmp/fastcgi;
  uwsgi_temp_path $BENCH_WORK/nginx-tmp/uwsgi;
  scgi_temp_path $BENCH_WORK/nginx-tmp/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  server {
    listen 127.0.0.1:$port;
    root $NGINX_ROOT;
    location /prov/ {
      default_type text/plain;
      add_header Cache-Control no-cache;
      try_files /desk.cfg =404;
    }
    location = /app/sessiontalk/provision {
      default_type application/json;
      add_header Cache-Control no-store;
      alias $NGINX_ROOT/provision.json;
    }
  }
}
EOF
  nginx -t -q -c "$conf" -e "$BENCH_WORK/nginx-error.log" >&2 || die "nginx rejects $conf"
  nginx -c "$conf" -e "$BENCH_WORK/nginx-error.log" >"$BENCH_WORK/nginx.log" 2>&1 &
  NGINX_PID=$!
  local deadline=$((SECONDS + 15))
  until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/app/sessiontalk/provision" 2>/dev/null; do
    kill -0 "$NGINX_PID" 2>/dev/null || { cat "$BENCH_WORK/nginx-error.log" >&2; NGINX_PID=""; die "nginx exited"; }
    [ "$SECONDS" -lt "$deadline" ] || die "nginx not answering on $port after 15 s"
    sleep 0.2
  done
  NGINX_URL="http://127.0.0.1:$port"
  log "nginx $(nginx -v 2>&1 | sed 's/.*: //') pid $NGINX_PID: $NGINX_URL, worker_processes ${NGINX_WORKERS:-auto}"
}
stop_nginx() {
  [ -n "$NGINX_PID" ] || return 0
  kill -TERM "$NGINX_PID" 2>/dev/null || true   # the master stops its workers
  for _ in $(seq 1 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$NGINX_PID" 2>/dev/null || true
  NGINX_PID=""
}

cli() { timeout 120 env "${HANDSET_ENV[@]}" node "$HANDSET_CLI" "$@"; }

start_handset
provision_handset "$PROV_DOMAIN"
start_nginx
admin="bench-admin@$PROV_DOMAIN"
cli superadmin create "$admin" --password "bench-$(date +%s)-pw" >/dev/null || die "superadmin create failed"
TOKEN="$(cli tokens create "$admin" --name prov-bench | tail -n 1)"
[ -n "$TOKEN" ] || die "tokens create printed no token"
HANDSET_URL="http://127.0.0.1:$HANDSET_HTTP_PORT"
DEVICES="$BENCH_WORK/devices.jsonl"
if [[ " $PROV_SCENARIOS " == *" sessiontalk "* ]]; then
log "activating $PROV_DEVICES devices (a code and a first request each)..."
node "$PROV_LOAD" setup --url "$HANDSET_URL" --token "$TOKEN" --out "$DEVICES" \
  --codes "${PROV_CODES:-direct}" --data-dir "$BENCH_WORK/handset-data" | tee "$BENCH_WORK/setup.txt" >&2 \
  || die "set-up failed"

fi

# storm LABEL -> prints prov-load's output; sets R_RATE R_ERR R_P50 R_P95 R_P99 R_BYTES R_CPU.
storm() {
  local label="$1" out="$BENCH_WORK/storm-$1.txt" line; shift
  timeout 900 node "$PROV_LOAD" storm --devices-file "$DEVICES" --label "$label" "$@" | tee "$out" || true
  line="$(grep '^prov-storm:' "$out" | tail -n 1)"
  get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
  R_RATE="$(get rate_per_s)"; R_RATE="${R_RATE:-0}"; R_ERR="$(get errors)"; R_ERR="${R_ERR:-?}"
  R_P50="$(get p50_ms)"; R_P95="$(get p95_ms)"; R_P99="$(get p99_ms)"; R_BYTES="$(get body_bytes)"
  R_CPU="$(get server_cpu_s)"
}
# serve FILE: the anchor's answer from now on (written beside, then renamed: nginx opens it per request).
serve() {
  [ -s "$1" ] || die "no sample answer in $1 (did every Handset request fail?)"
  cp "$1" "$NGINX_ROOT/provision.json.new"; chmod 644 "$NGINX_ROOT/provision.json.new"
  mv "$NGINX_ROOT/provision.json.new" "$NGINX_ROOT/provision.json"
}

declare -A ALL
keep() { ALL[$1]="${ALL[$1]:-} $2"; }
SCENARIOS_RUN=""
if [[ " $PROV_SCENARIOS " == *" desk "* ]]; then
  DESK="$BENCH_WORK/desk.jsonl"
  log "creating $PROV_DEVICES desk phones (POST /api/v1/devices)..."
  node "$PROV_LOAD" desk-setup --url "$HANDSET_URL" --token "$TOKEN" --out "$DESK" | tee -a "$BENCH_WORK/setup.txt" >&2 \
    || die "desk set-up failed"
  for ((round = 1; round <= PROV_ROUNDS; round++)); do
    echo "== round $round, desk phones: Handset =="
    storm "handset-desk-$round" --devices-file "$DESK" --url "$HANDSET_URL" --pid "$HANDSET_PID" --sample-out "$BENCH_WORK/answer-desk.cfg"
    keep "h-desk-rate" "$R_RATE"; keep "h-desk-err" "$R_ERR"; keep "h-desk-p50" "$R_P50"
    keep "h-desk-p95" "$R_P95"; keep "h-desk-p99" "$R_P99"; keep "h-desk-bytes" "$R_BYTES"; keep "h-desk-cpu" "$R_CPU"
    [ -s "$BENCH_WORK/answer-desk.cfg" ] || die "no sample desk-phone answer (did every Handset request fail?)"
    cp "$BENCH_WORK/answer-desk.cfg" "$NGINX_ROOT/desk.cfg.new"; chmod 644 "$NGINX_ROOT/desk.cfg.new"
    mv "$NGINX_ROOT/desk.cfg.new" "$NGINX_ROOT/desk.cfg"
    echo "== round $round, desk phones: nginx, static file of $(stat -c %s "$NGINX_ROOT/desk.cfg") bytes =="
    storm "nginx-desk-$round" --devices-file "$DESK" --url "$NGINX_URL" --pid "$NGINX_PID" --static "$NGINX_ROOT/desk.cfg"
    keep "n-desk-rate" "$R_RATE"; keep "n-desk-err" "$R_ERR"; keep "n-desk-p50" "$R_P50"
    keep "n-desk-p95" "$R_P95"; keep "n-desk-p99" "$R_P99"; keep "n-desk-bytes" "$R_BYTES"; keep "n-desk-cpu" "$R_CPU"
  done
  SCENARIOS_RUN="desk"
fi
if [[ " $PROV_SCENARIOS " == *" sessiontalk "* ]]; then
SCENARIOS_RUN="stored cleared $SCENARIOS_RUN"
for ((round = 1; round <= PROV_ROUNDS; round++)); do
  for scenario in stored cleared; do
    if [ "$scenario" = cleared ]; then
      node "$PROV_LOAD" clear-md5 --url "$HANDSET_URL" --token "$TOKEN" >&2 || die "clear-md5 failed"
      expect=true
    else
      expect=false
    fi
    echo "== round $round, json_md5 $scenario: Handset (update:$expect) =="
    storm "handset-$scenario-$round" --url "$HANDSET_URL" --pid "$HANDSET_PID" --expect-update "$expect" \
      --sample-out "$BENCH_WORK/answer-$scenario.json"
    keep "h-$scenario-rate" "$R_RATE"; keep "h-$scenario-err" "$R_ERR"; keep "h-$scenario-p50" "$R_P50"
    keep "h-$scenario-p95" "$R_P95"; keep "h-$scenario-p99" "$R_P99"; keep "h-$scenario-bytes" "$R_BYTES"; keep "h-$scenario-cpu" "$R_CPU"
    serve "$BENCH_WORK/answer-$scenario.json"
    echo "== round $round, json_md5 $scenario: nginx, static file of $(stat -c %s "$NGINX_ROOT/provision.json") bytes =="
    storm "nginx-$scenario-$round" --url "$NGINX_URL" --pid "$NGINX_PID" --static "$NGINX_ROOT/provision.json"
    keep "n-$scenario-rate" "$R_RATE"; keep "n-$scenario-err" "$R_ERR"; keep "n-$scenario-p50" "$R_P50"
    keep "n-$scenario-p95" "$R_P95"; keep "n-$scenario-p99" "$R_P99"; keep "n-$scenario-bytes" "$R_BYTES"; keep "n-$scenario-cpu" "$R_CPU"
  done
done

fi

# median "a b c" -> the middle value (lower middle for an even count); total -> the sum (errors).
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
total() { tr ' ' '\n' <<<"$1" | grep -v '^$' | awk '{ if ($1 ~ /^[0-9]+$/) s += $1; else bad = 1 } END { print bad ? "?" : s + 0 }'; }
# m KEY -> median of that figure over the rounds.
m() { median "${ALL[$1]}"; }
# cell h|n SCENARIO -> "rate/s (errors, latencies, server CPU per answer, rounds)".
cell() {
  local k="$1-$2" cpu
  cpu="$(awk -v s="$(m "$k-cpu")" -v n="$PROV_DEVICES" 'BEGIN { if (s == "" || s == "n/a") print "n/a"; else printf "%.0f\n", s * 1e6 / n }')"
  echo "$(m "$k-rate")/s ($(total "${ALL[$k-err]}") errors, p50/p95/p99 $(m "$k-p50")/$(m "$k-p95")/$(m "$k-p99") ms, server CPU $cpu us/answer, $rounds_note)"
}

date_utc="$(date -u +%Y-%m-%d)"; commit="$(bench_commit)"
rounds_note="median of $PROV_ROUNDS"
if [ "$PROV_ROUNDS" = 1 ]; then rounds_note="1 round"; fi
what="$PROV_DEVICES devices, $PROV_CONCURRENCY connections"
if [ "${PROV_KEEPALIVE:-1}" = 0 ]; then what="$what, no keep-alive"; fi
echo
echo "answers/s per round: stored Handset${ALL[h-stored-rate]:-}, nginx${ALL[n-stored-rate]:-}; cleared Handset${ALL[h-cleared-rate]:-}, nginx${ALL[n-cleared-rate]:-}; desk Handset${ALL[h-desk-rate]:-}, nginx${ALL[n-desk-rate]:-}"
for scenario in $SCENARIOS_RUN; do
  echo "ratio answers/s Handset/nginx, json_md5 $scenario: $(ratio "$(m "h-$scenario-rate")" "$(m "n-$scenario-rate")")"
done
echo
echo "markdown rows for docs/benchmarks.md:"
for scenario in $SCENARIOS_RUN; do
  case $scenario in
    stored) title="json_md5 stored (update:false)";;
    cleared) title="json_md5 cleared (update:true)";;
    desk) title="desk phones fetching /prov/<mac>.cfg (Yealink)";;
  esac
  echo "| $date_utc | $commit | \`npm run bench:provisioning\` re-provision storm, $title, $what; anchor nginx, static $(m "n-$scenario-bytes") B | $(cell h "$scenario") | $(cell n "$scenario") | $(ratio "$(m "h-$scenario-rate")" "$(m "n-$scenario-rate")") |"
done
