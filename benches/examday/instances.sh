#!/bin/sh
# Exam day on two servers behind HAProxy, one PostgreSQL database.
# Installs HAProxy from Debian's packages when it is missing, then runs the
# bench with --instances 2; other options are passed on, e.g.
#   benches/examday/instances.sh --profile realistic --candidates 10000
set -eu
if ! command -v haproxy >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get install -y haproxy || { $sudo apt-get update && $sudo apt-get install -y haproxy; }
fi
cd "$(dirname "$0")/../.."
cargo build --release --bin gatekeeper
exec cargo run --release -p gatekeeper-bench --bin examday -- \
    --database-url "${GATEKEEPER_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}" \
    --instances 2 "$@"
