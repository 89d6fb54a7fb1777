#!/usr/bin/env bash
# Runs every shipped suite live against llama.cpp's llama-server (both dialects it speaks), and
# then replays fixtures/llama-server* with --strict. Used by .ci/run.
#
#   tools/llama-server/ci.sh [PROVCHECK_BINARY]     # default target/release/provcheck
#
# The live run uses `--behaviour warn`: the tiny random-weight model says nothing sensible, so
# what it chose to say is shown as warnings and the run judges the wire contract. Every trial
# that fails or errors must be explained by known-nonconformance.txt, each rule naming the contract clause
# llama-server breaks (the README lists them). A listed trial that passes is reported, so the
# list can shrink when llama-server is fixed.
#
# Then the recordings in fixtures/llama-server and fixtures/llama-server-anthropic (recorded from
# this server with --mode record, provenance live) are replayed with --strict: every request must
# match a recorded exchange and every exchange must be used, and the replay's failures must be
# the listed ones, no more.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
bin="${1:-target/release/provcheck}"
known="$here/known-nonconformance.txt"
targets=(--targets "$here/targets.yaml" --target llama-server --target llama-server-anthropic)
reports="${PROVCHECK_LLAMA_REPORTS:-reports/llama-server}"

mkdir -p "$reports"
"$here/start.sh" >/dev/null
trap '"$here/start.sh" --stop >/dev/null 2>&1 || true' EXIT

status=0
# The live run (a grammar-constrained reply from the random-weight model takes ~17 s on 2 busy
# cores, so deadlines are wide). Its exit code is non-zero whenever a listed trial fails; judge decides.
"$bin" "${targets[@]}" --mode live --behaviour warn --reports "$reports/live" --test-threads 4 \
  --request-timeout-ms 120000 --trial-deadline-ms 300000 \
  >"$reports.live.log" 2>&1 || true
grep -A200 '^provcheck:' "$reports.live.log" | head -80 || true
python3 "$here/judge.py" "$reports/live/run.json" "$known" live || status=1

"$bin" "${targets[@]}" --strict --behaviour warn --reports "$reports/replay" \
  >"$reports.replay.log" 2>&1 || true
python3 "$here/judge.py" "$reports/replay/run.json" "$known" "replay --strict" || status=1
exit "$status"
