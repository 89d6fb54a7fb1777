#!/usr/bin/env bash
# Writes authored recordings for the built-in targets (openai, anthropic, ollama,
# openai-responses) of the given
# suites, by recording them against the in-tree conformant reference provider started with the
# built-ins' model names. The reference provider answers each dialect as its documentation says
# (provider-wire.md), so what it records is the documented answer; the recordings are marked
# `authored` and must still pass the OpenAPI contract test (harness/tests/it/openapi_contract.rs).
# Only trials without a recording are written (`--record missing`).
#
#   tools/reference-live/author-fixtures.sh suites/validation.yaml suites/parameters.yaml
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
[ $# -ge 1 ] || { echo "usage: $0 SUITE.yaml..." >&2; exit 2; }

cargo build -q --bin provcheck --example reference_provider
work="$(mktemp -d)"
server_pid=""
trap 'kill "$server_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
models="gpt-4o-mini+vision,gpt-4.1-mini,gpt-3.5-turbo,claude-haiku-4-5+vision,claude-sonnet-4-5"
models="$models,llama3.2,qwen2.5:0.5b,llava+vision"
target/debug/examples/reference_provider --addr 127.0.0.1:0 --models "$models" >"$work/urls" &
server_pid=$!
for _ in $(seq 100); do [ "$(wc -l <"$work/urls")" -ge 3 ] && break; sleep 0.1; done
[ "$(wc -l <"$work/urls")" -ge 3 ] || { echo "the reference provider did not start" >&2; exit 2; }
url() { awk -v d="$1" '$1 == d {print $2}' "$work/urls"; }

cat >"$work/targets.yaml" <<YAML
targets:
  openai: { base_url: $(url openai) }
  anthropic: { base_url: $(url anthropic) }
  ollama: { base_url: $(url ollama) }
  openai-responses: { base_url: $(url openai) }
YAML

suites=()
for s in "$@"; do suites+=(--suite "$s"); done
before="$(mktemp)"
find fixtures -name '*.yaml' | sort >"$before"
OPENAI_API_KEY=authored ANTHROPIC_API_KEY=authored target/debug/provcheck --mode record \
  --record missing --targets "$work/targets.yaml" --target openai --target anthropic \
  --target ollama --target openai-responses --live-concurrency 1 --no-reports "${suites[@]}" || true
# Mark what was written as authored: the documented answer, not a provider's live reply.
find fixtures -name '*.yaml' | sort | comm -13 "$before" - | while read -r f; do
  python3 - "$f" "$(date -u +%F)" <<'PY'
import json, sys
path, date = sys.argv[1], sys.argv[2]
text = open(path).read()
# The first line is the `# yaml-language-server: $schema=...` comment; JSON follows.
head, _, body = text.partition("\n") if text.startswith("#") else ("", "", text)
rec = json.loads(body)
rec["provenance"] = {
    "source": "authored",
    "date": date,
    "model": rec["provenance"].get("model"),
    "reference": "provider-wire.md and the official OpenAPI specs",
    "note": "the documented answer, as the in-tree reference provider gives it (tools/reference-live/author-fixtures.sh)",
}
with open(path, "w") as out:
    if head:
        out.write(head + "\n")
    json.dump(rec, out, indent=2, ensure_ascii=False)
    out.write("\n")
PY
  echo "authored $f"
done
rm -f "$before"
