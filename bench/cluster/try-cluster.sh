#!/usr/bin/env bash
# Try a Handset cluster on one machine (docs/cluster.md): PostgreSQL and Redis (already running),
# a new database, 3 Handset nodes and a Kamailio dispatcher in front; one domain with users
# 1000-1009 (password secret<ext>). Prints where everything is, then runs until Ctrl-C, which
# stops it all and removes the database and the Redis keys it made.
#
#   bash bench/cluster/try-cluster.sh [NODES]        (NODES: default 3)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster-lib.sh"
trap cluster_cleanup EXIT
trap 'exit 130' INT TERM
NODES="${1:-3}"
DOMAIN="${DOMAIN:-cluster.test}"

cluster_database
for ((i = 1; i <= NODES; i++)); do cluster_start_node "$i"; done
cluster_start_balancer "$NODES"
cluster_cli 1 domains add "$DOMAIN" >/dev/null
printf 'ext,password,name\n' >"$CLUSTER_WORK/users.csv"
for ext in $(seq 1000 1009); do printf '%s,secret%s,User %s\n' "$ext" "$ext" "$ext" >>"$CLUSTER_WORK/users.csv"; done
cluster_cli 1 users import "$CLUSTER_WORK/users.csv" --domain "$DOMAIN" >/dev/null

echo "database:  $DATABASE_URL"
echo "redis:     $REDIS_URL (prefix $CLUSTER_PREFIX)"
echo "balancer:  sip:127.0.0.1:$BALANCER_PORT (UDP and TCP): register phones here, domain $DOMAIN, users 1000-1009, password secret<ext>"
for ((i = 1; i <= NODES; i++)); do
  echo "node-$i:    sip 127.0.0.1:${NODE_SIP_PORTS[$((i - 1))]}  http://127.0.0.1:${NODE_HTTP_PORTS[$((i - 1))]}/healthz  (pid ${NODE_PIDS[$((i - 1))]}, log $CLUSTER_WORK/node-$i.log)"
done
echo "Ctrl-C stops everything."
while :; do sleep 3600 & wait $!; done
