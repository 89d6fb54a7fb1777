#!/usr/bin/env bash
# Starts a LiteLLM proxy on 127.0.0.1 (port $LITELLM_PORT, default 4000) whose models answer from
# `mock_response`: no upstream provider, no provider key, no network. Installs `litellm[proxy]`
# with pip when it is missing. The proxy's master key is $LITELLM_MASTER_KEY (a local default
# when unset); provcheck sends it as the `litellm` target's key (see targets.yaml here). A config
# file given as the first argument replaces config.yaml (gateway.yaml: LiteLLM as the subject of
# gateway mode, its upstream provcheck's mock).
#
#   tools/litellm/start.sh &
#   LITELLM_MASTER_KEY=sk-provcheck-local-0000 cargo run -- --targets tools/litellm/targets.yaml \
#     --target litellm --mode record --suite suites/messages.yaml
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port="${LITELLM_PORT:-4000}"
export LITELLM_MASTER_KEY="${LITELLM_MASTER_KEY:-sk-provcheck-local-0000}"
# The bundled model price map instead of fetching the latest from GitHub at startup.
export LITELLM_LOCAL_MODEL_COST_MAP=True
# (LiteLLM's proxy telemetry records nothing until LITELLM_TELEMETRY_DESTINATION is set.)

if ! python3 -c 'import litellm.proxy.proxy_server' >/dev/null 2>&1; then
  echo "litellm[proxy] is not installed; installing it with pip" >&2
  python3 -m pip install --quiet 'litellm[proxy]'
fi

exec litellm --config "${1:-$here/config.yaml}" --host 127.0.0.1 --port "$port"
