#!/usr/bin/env bash
# Makes (once) the virtualenv the reference adapters run in, with the SDKs pinned in
# requirements.txt, and prints its directory. The venv lives outside the clone, keyed by the
# requirements' hash, so a changed pin makes a new one and an unchanged one is reused:
#   ${PROVCHECK_CACHE:-~/.cache/provcheck}/clients-venv-<hash>
# Use: venv="$(clients/venv.sh)" && PROVCHECK_CLIENTS_VENV="$venv" cargo test --test it client
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${PROVCHECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/provcheck}"
hash="$(sha256sum "$here/requirements.txt" | cut -c1-12)"
venv="$cache/clients-venv-$hash"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  mkdir -p "$cache"
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$here/requirements.txt" >&2
  touch "$venv/.complete"
fi
echo "$venv"
