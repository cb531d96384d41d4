#!/usr/bin/env bash
# CI entry point for the interop matrix: install the peers, then run the matrix.
# Exit status is run.sh's (non-zero if any cell FAILs). INTEROP_CHROMIUM=0 skips Chromium.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
t0=$(date +%s)
bash "$HERE/install.sh"
t1=$(date +%s)
rc=0
bash "$HERE/run.sh" || rc=$?
t2=$(date +%s)
echo "interop: install $((t1 - t0)) s, run $((t2 - t1)) s, total $((t2 - t0)) s, exit $rc"
exit $rc
