#!/usr/bin/env bash
# Installs the Debian packages the cross-process suite (npm run test:e2e) and the benchmarks use.
set -euo pipefail
need=()
command -v sipp >/dev/null || need+=(sip-tester)
command -v baresip >/dev/null || need+=(baresip-core)
command -v chromium >/dev/null || need+=(chromium)
command -v kamailio >/dev/null || need+=(kamailio)
[ -e /usr/lib/x86_64-linux-gnu/kamailio/modules/websocket.so ] || need+=(kamailio-websocket-modules)
command -v rtpengine >/dev/null || need+=(rtpengine-daemon)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || true
  apt-get install -y --no-install-recommends "${need[@]}"
fi
echo "test dependencies present: sipp baresip chromium kamailio rtpengine"
