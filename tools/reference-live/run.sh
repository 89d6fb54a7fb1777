#!/usr/bin/env bash
# Runs every shipped suite live against the in-tree conformant reference provider
# (provcheck::reference), in all four dialects, and compares the failing trials with
# known-failures.txt: the trials known to fail against it. The run uses `--behaviour warn`, so
# trials that fail broke the contract and trials that pass with behaviour warnings missed only
# what the model chose to say; each kind has its list ([contract], [behaviour]). The lists are a
# ratchet: they may only shrink. Exit 0 when both match the run.
#
#   tools/reference-live/run.sh            # conformant server
#   tools/reference-live/run.sh --broken finish-on-cut   # a broken variant: prints what fails
#
# With --broken, the run lists the trials that fail beyond the known ones (those that catch the
# knob), and fails when there are none.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
broken="${2:-}"
[ "${1:-}" = "--broken" ] || broken=""

cargo build -q --bin provcheck --example reference_provider
work="$(mktemp -d)"
server_pid=""
trap 'kill "$server_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
args=(--addr 127.0.0.1:0)
[ -n "$broken" ] && args+=(--broken "$broken")
: >"$work/urls"
target/debug/examples/reference_provider "${args[@]}" >"$work/urls" &
server_pid=$!
for _ in $(seq 100); do [ "$(wc -l <"$work/urls")" -ge 4 ] && break; sleep 0.1; done
[ "$(wc -l <"$work/urls")" -ge 4 ] || { echo "the reference provider did not start" >&2; exit 2; }
url() { awk -v d="$1" '$1 == d {print $2}' "$work/urls"; }

cat >"$work/targets.yaml" <<YAML
targets:
  ref-openai:
    dialect: openai
    base_url: $(url openai)
    models: { small: ref-small, second: ref-second, tools: ref-tools, absent: ref-absent, vision: ref-vision, text_only: ref-small }
    capabilities: [streaming, json_mode, json_schema, tools, parallel_tools, vision]
  ref-anthropic:
    dialect: anthropic
    base_url: $(url anthropic)
    models: { small: ref-small, second: ref-second, tools: ref-tools, absent: ref-absent, vision: ref-vision }
    capabilities: [streaming, json_schema, tools, parallel_tools, vision]
  ref-ollama:
    dialect: ollama
    base_url: $(url ollama)
    models: { small: ref-small, second: ref-second, tools: ref-tools, absent: ref-absent, vision: ref-vision, text_only: ref-small }
    capabilities: [streaming, json_mode, json_schema, tools, parallel_tools, model_pull, model_management, vision]
  ref-openai-responses:
    dialect: openai-responses
    base_url: $(url openai-responses)
    models: { small: ref-small, second: ref-second, tools: ref-tools, absent: ref-absent, vision: ref-vision, text_only: ref-small }
    capabilities: [streaming, json_mode, json_schema, tools, parallel_tools, vision]
YAML

# One trial at a time per target: ollama-lifecycle::keep_alive_zero_unloads races any trial
# that loads the small model meanwhile (issue 13, "exclusive trials"); until suites can say
# so, the run is serial, which costs about a second here.
set +e
target/debug/provcheck --mode live --targets "$work/targets.yaml" \
  --target ref-openai --target ref-anthropic --target ref-ollama --target ref-openai-responses \
  --live-concurrency 1 --behaviour warn --reports "$work/reports" >"$work/console" 2>&1
status=$?
set -e
mkdir -p target/reference-live
cp "$work/console" target/reference-live/console
rm -rf target/reference-live/reports && cp -r "$work/reports" target/reference-live/reports
# `|| true`: no failure (or no warning) at all is a result, not an error of the pipeline.
{ grep -E '^test .* FAILED$' "$work/console" || true; } | sed -E 's/^test ([^ ]+) +\.\.\. FAILED$/\1/' | sort >"$work/failed"
{ grep -E '^  WARN  ' "$work/console" || true; } | sed -E 's/^  WARN  ([^ ]+): .*$/\1/' | sort >"$work/warned"
echo "provcheck exited $status; $(wc -l <"$work/failed") trials failed (contract), $(wc -l <"$work/warned") passed with behaviour warnings"
# The entries under one `[kind]` header of known-failures.txt.
known() { awk -v s="[$1]" '/^\[/ {cur = $0; next} /^(#|$)/ {next} cur == s' "$here/known-failures.txt" | sort; }
known contract >"$work/known"
known behaviour >"$work/known-behaviour"
if [ -n "$broken" ]; then
  # A broken variant must make some trial fail that passes against the conformant server.
  comm -13 "$work/known" "$work/failed" >"$work/caught"
  echo "caught by $(wc -l <"$work/caught") more trials:"
  sed 's/^/  /' "$work/caught"
  [ -s "$work/caught" ] || { echo "knob $broken is caught by no trial" >&2; exit 1; }
  exit 0
fi
if diff -u "$work/known" "$work/failed" && diff -u "$work/known-behaviour" "$work/warned"; then
  echo "contract failures and behaviour warnings are exactly the known ones"
else
  echo "failures differ from tools/reference-live/known-failures.txt (above); the console is in target/reference-live/console" >&2
  exit 1
fi
