# Starts a Handset cluster on one machine: a PostgreSQL database, a Redis key prefix, N Handset nodes
# and a Kamailio dispatcher in front. Sourced by bench/cluster/try-cluster.sh (the recipe in
# docs/cluster.md) and bench/cluster/bench.sh. Everything started is recorded and stopped by
# cluster_cleanup, by PID; the database and the Redis keys made here are removed too.
#
# Environment (all optional):
#   PG_ADMIN_URL   a PostgreSQL server where a database may be created   (postgres://postgres@127.0.0.1:5432/postgres)
#   DATABASE_URL   use this database instead of creating one
#   REDIS_URL      the Redis the nodes share                                     (redis://127.0.0.1:6379)
#   HANDSET_CLI    the built CLI                                                 (<repo>/apps/server/dist/cli/main.js)
#   CLUSTER_LOG_LEVEL   the nodes' HANDSET_LOG_LEVEL                             (warn)

CLUSTER_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HANDSET_CLI="${HANDSET_CLI:-$CLUSTER_ROOT/apps/server/dist/cli/main.js}"
CLUSTER_WORK="${CLUSTER_WORK:-$(mktemp -d /tmp/handset-cluster.XXXXXX)}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
CLUSTER_PREFIX="${CLUSTER_PREFIX:-handset-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n'):}"
CLUSTER_KEY="${CLUSTER_KEY:-$(head -c 32 /dev/urandom | base64)}"
CLUSTER_PIDS=()
CLUSTER_DB_CREATED=""
NODE_SIP_PORTS=()
NODE_HTTP_PORTS=()
NODE_PIDS=()
KAMAILIO_PID=""
BALANCER_PORT=""

clog() { printf '%s\n' "$*" >&2; }
cdie() { clog "cluster: $*"; exit 1; }

# shellcheck source=../lib/free-port.sh
source "$CLUSTER_ROOT/bench/lib/free-port.sh"
cluster_free_port() { free_port; }

# Creates the cluster's database (unless DATABASE_URL is set).
cluster_database() {
  if [ -n "${DATABASE_URL:-}" ]; then return; fi
  local name="handset_cluster_$$_$RANDOM"
  psql "$PG_ADMIN_URL" -qAtc "create database $name" >/dev/null || cdie "cannot create a database on $PG_ADMIN_URL"
  CLUSTER_DB_CREATED="$name"
  DATABASE_URL="${PG_ADMIN_URL%/*}/$name"
}

# The environment of node I (1-based): what docs/cluster.md lists, per node.
cluster_node_env() {
  local i="$1"
  NODE_ENV=(HANDSET_DATA_DIR="$CLUSTER_WORK/node-$i" HANDSET_BIND=127.0.0.1 HANDSET_PUBLIC_HOST=127.0.0.1
    HANDSET_SIP_PORT="${NODE_SIP_PORTS[$((i - 1))]}" HANDSET_HTTP_PORT="${NODE_HTTP_PORTS[$((i - 1))]}"
    HANDSET_NODE_ID="node-$i" DATABASE_URL="$DATABASE_URL" REDIS_URL="$REDIS_URL"
    HANDSET_REDIS_PREFIX="$CLUSTER_PREFIX" HANDSET_SECRET_KEY="$CLUSTER_KEY"
    HANDSET_LOG_LEVEL="${CLUSTER_LOG_LEVEL:-warn}" HANDSET_DIGEST_ALGORITHMS=MD5
    HANDSET_MAX_CONNECTIONS_PER_IP=100000)
}

# Starts node I and waits (60 s at most) for its /healthz.
cluster_start_node() {
  local i="$1"
  [ -f "$HANDSET_CLI" ] || cdie "$HANDSET_CLI not found: run npm run build first"
  if [ -z "${NODE_SIP_PORTS[$((i - 1))]:-}" ]; then
    NODE_SIP_PORTS[$((i - 1))]="$(cluster_free_port)"
    NODE_HTTP_PORTS[$((i - 1))]="$(cluster_free_port)"
  fi
  mkdir -p "$CLUSTER_WORK/node-$i"
  cluster_node_env "$i"
  env "${NODE_ENV[@]}" node "$HANDSET_CLI" start >>"$CLUSTER_WORK/node-$i.log" 2>&1 &
  NODE_PIDS[$((i - 1))]=$!
  CLUSTER_PIDS+=("$!")
  local deadline=$((SECONDS + 60))
  until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:${NODE_HTTP_PORTS[$((i - 1))]}/healthz" 2>/dev/null; do
    kill -0 "${NODE_PIDS[$((i - 1))]}" 2>/dev/null || { tail -n 20 "$CLUSTER_WORK/node-$i.log" >&2; cdie "node $i exited"; }
    [ $SECONDS -lt $deadline ] || cdie "node $i not healthy after 60 s"
    sleep 0.2
  done
}

# Runs the CLI as node I would (same database and key).
cluster_cli() {
  local i="$1"; shift
  cluster_node_env "$i"
  env "${NODE_ENV[@]}" node "$HANDSET_CLI" "$@"
}

# Starts Kamailio (dispatcher) on a free port in front of nodes 1..N.
cluster_start_balancer() {
  local n="$1" list="$CLUSTER_WORK/dispatcher.list" cfg="$CLUSTER_WORK/kamailio.cfg" i
  command -v kamailio >/dev/null || cdie "kamailio not found: apt-get install -y kamailio"
  BALANCER_PORT="${BALANCER_PORT:-$(cluster_free_port)}"
  : >"$list"
  for ((i = 1; i <= n; i++)); do echo "1 sip:127.0.0.1:${NODE_SIP_PORTS[$((i - 1))]} 0 0" >>"$list"; done
  local modules
  modules="$(dirname "$(find /usr/lib -name dispatcher.so -path '*kamailio*' 2>/dev/null | head -n 1)")"
  sed -e "s|%%LISTEN%%|127.0.0.1:$BALANCER_PORT|g" -e "s|%%LIST%%|$list|g" -e "s|%%MODULES%%|$modules|g" \
    "$CLUSTER_ROOT/bench/cluster/kamailio-dispatcher.cfg" >"$cfg"
  mkdir -p "$CLUSTER_WORK/kamailio-run"
  kamailio -DD -E -m 256 -M 16 -f "$cfg" -Y "$CLUSTER_WORK/kamailio-run" -w "$CLUSTER_WORK" >"$CLUSTER_WORK/kamailio.log" 2>&1 &
  KAMAILIO_PID=$!
  CLUSTER_PIDS+=("$!")
  sleep 1
  kill -0 "$KAMAILIO_PID" 2>/dev/null || { tail -n 20 "$CLUSTER_WORK/kamailio.log" >&2; cdie "kamailio exited"; }
}

# Stops what was started here (by PID), drops the database made here and the Redis keys of the prefix.
cluster_cleanup() {
  local p
  for p in "${CLUSTER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${CLUSTER_PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  if [ -n "$CLUSTER_DB_CREATED" ]; then
    psql "$PG_ADMIN_URL" -qAtc "drop database if exists $CLUSTER_DB_CREATED with (force)" >/dev/null 2>&1 || true
  fi
  redis-cli -u "$REDIS_URL" --scan --pattern "${CLUSTER_PREFIX}*" 2>/dev/null | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
  [ "${CLUSTER_KEEP:-0}" = 1 ] && clog "kept $CLUSTER_WORK" || rm -rf "$CLUSTER_WORK"
}
