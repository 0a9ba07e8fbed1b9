#!/usr/bin/env bash
# AkkaCache build entry point.
#   ./build.sh            build (Release)
#   ./build.sh test       install missing test dependencies, build, run every test project
#   ./build.sh deps       only install missing test dependencies
set -euo pipefail
cd "$(dirname "$0")"

need_packages=()

# the cluster compatibility tests drive ioredis from npm; its lock file pins what npm installs
COMPAT_DIR=tests/AkkaCache.Cluster.Tests/Compatibility

check_tools() {
  command -v redis-cli >/dev/null 2>&1 || need_packages+=(redis-tools)
  # redis-py is Debian's python3-redis (PyPI is not reachable); the python3 first on PATH may be another one
  /usr/bin/python3 -c 'import redis' >/dev/null 2>&1 || need_packages+=(python3-redis)
  command -v npm >/dev/null 2>&1 || need_packages+=(nodejs npm)
}

install_node_modules() {
  if [ -f "$COMPAT_DIR/node_modules/ioredis/package.json" ]; then return 0; fi
  echo "build.sh: installing ioredis for the cluster compatibility tests (npm ci in $COMPAT_DIR)"
  npm ci --prefix "$COMPAT_DIR" --no-audit --no-fund --loglevel=error >/dev/null
}

install_deps() {
  check_tools
  if [ ${#need_packages[@]} -eq 0 ]; then install_node_modules; return 0; fi
  echo "build.sh: the tests need these Debian packages, which are missing: ${need_packages[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "build.sh: not running as root, so not installing them. Run: sudo apt-get install -y ${need_packages[*]}" >&2
    exit 1
  fi
  echo "build.sh: installing ${need_packages[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_packages[@]}" >/dev/null
  # Debian starts redis-server on install; the tests start their own nodes on free ports, so keep the machine quiet
  if command -v systemctl >/dev/null 2>&1; then
    systemctl stop redis-server >/dev/null 2>&1 || true
  fi
  install_node_modules
}

case "${1:-build}" in
  deps)
    install_deps
    ;;
  build)
    dotnet build AkkaCache.sln -c Release
    ;;
  test)
    install_deps
    dotnet build AkkaCache.sln -c Release
    log=$(mktemp)
    set +e
    # one test project at a time (-m:1): the client, hosting and cluster tests all start real node processes and
    # clusters, and on two cores concurrent clusters would only make each other's timing worse
    dotnet test AkkaCache.sln -c Release --no-build -m:1 --blame-hang-timeout 10m 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    set -e
    # one closing line over all test projects
    passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
    failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
    rm -f "$log"
    echo "tests: $passed passed, $failed failed"
    exit "$status"
    ;;
  *)
    echo "usage: ./build.sh [build|test|deps]" >&2
    exit 2
    ;;
esac
