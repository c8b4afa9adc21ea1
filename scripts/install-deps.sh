#!/usr/bin/env bash
# Installs what Målbild needs on Debian/Ubuntu that is missing: ClickHouse,
# Node.js/npm (for the chart library at build time) and, for the tests,
# Chromium and ZooKeeper; for benchmarks, wrk. Usage: install-deps.sh [demo|test|bench]
set -euo pipefail
what=${1:-demo}
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have clickhouse-server || need+=(clickhouse-server)
have clickhouse-client || need+=(clickhouse-client)
have npm || need+=(nodejs npm)
if [ "$what" = test ] || [ "$what" = bench ]; then
  have chromium || need+=(chromium)
  # The cluster tests' ZooKeeper (internal/chtest/cluster.go runs it directly).
  [ -f /usr/share/java/zookeeper.jar ] || need+=(zookeeper)
fi
if [ "$what" = bench ]; then
  have wrk || need+=(wrk)
fi
if ! have go; then
  echo "Go 1.26 or later is required: https://go.dev/doc/install" >&2
  exit 1
fi
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian's clickhouse-server package starts a system service we do not use.
if [ "$(id -u)" = 0 ] && command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now clickhouse-server >/dev/null 2>&1 || true
fi
