#!/usr/bin/env bash
# Runs every shipped suite live against llama.cpp's llama-server in the three dialects it speaks
# (OpenAI chat completions, Anthropic messages, OpenAI Responses), then replays
# fixtures/llama-server* with --strict. Used by .ci/run.
#
#   tools/llama-server/ci.sh [PROVCHECK_BINARY]            # default target/release/provcheck
#   tools/llama-server/ci.sh --record [PROVCHECK_BINARY]   # the live run also rewrites the fixtures
#
# The live run uses `--behaviour warn`: the tiny random-weight model says nothing sensible, so
# what it chose to say is shown as warnings and the run judges the wire contract. Every
# contract finding and error of a failing trial must be explained by a rule of
# known-nonconformance.txt, each naming the contract clause llama-server breaks (the README
# lists them); a rule that explains nothing is reported, so the list can shrink when
# llama-server is fixed. The server is seeded (start.sh) and the deadlines are wide.
#
# The resilience suite runs in a pass of its own, one trial at a time: its fault scripts forward
# one attempt to the server under a scenario deadline of 1.5 s (timeout_slow_headers), which a
# server busy with other trials' generations missed on a loaded 2-core machine.
#
# Then the recordings in fixtures/llama-server{,-anthropic,-responses} (recorded from this
# server with --mode record, provenance live) are replayed with --strict: every request must
# match a recorded exchange and every exchange must be used, and the replay's failures must be
# the listed ones, no more. They are scoped to this script: the default `cargo run --release`
# knows no llama-server target, so it never replays them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
mode=live
if [[ "${1:-}" == "--record" ]]; then
  mode=record
  shift
fi
bin="${1:-target/release/provcheck}"
known="$here/known-nonconformance.txt"
targets=(--targets "$here/targets.yaml" --target llama-server --target llama-server-anthropic
  --target llama-server-responses)
reports="${PROVCHECK_LLAMA_REPORTS:-reports/llama-server}"
record=()
[[ "$mode" == record ]] && record=(--record all)

mkdir -p "$reports"
"$here/start.sh" >/dev/null
trap '"$here/start.sh" --stop >/dev/null 2>&1 || true' EXIT

# One live pass: its exit code is non-zero whenever a listed trial fails; judge.py decides.
live() {
  local name="$1"
  shift
  local started=$SECONDS
  "$bin" "${targets[@]}" --mode "$mode" "${record[@]}" --behaviour warn \
    --reports "$reports/$name" --request-timeout-ms 120000 --trial-deadline-ms 300000 "$@" \
    >"$reports/$name.log" 2>&1 || true
  grep -m1 '^provcheck:' "$reports/$name.log" || { tail -n 20 "$reports/$name.log"; return 1; }
  echo "  ($name: $((SECONDS - started)) s)"
}

status=0
live live-resilience --suite suites/resilience.yaml --test-threads 1 || status=1
live live --skip resilience:: --test-threads 4 || status=1
python3 "$here/judge.py" "$known" "$mode" "$reports/live-resilience/run.json" \
  "$reports/live/run.json" || status=1

"$bin" "${targets[@]}" --strict --behaviour warn --reports "$reports/replay" \
  >"$reports/replay.log" 2>&1 || true
grep -m1 '^provcheck:' "$reports/replay.log" || tail -n 20 "$reports/replay.log"
python3 "$here/judge.py" "$known" "replay --strict" "$reports/replay/run.json" || status=1
exit "$status"
