#!/usr/bin/env bash
# Starts llama.cpp's llama-server on 127.0.0.1 with a tiny random-weight model, for running
# provcheck live against a real server that speaks OpenAI chat completions (/v1/chat/completions),
# OpenAI Responses (/v1/responses) and Anthropic messages (/v1/messages).
#
#   tools/llama-server/start.sh            build once (cached), make the model once, start, wait
#   tools/llama-server/start.sh --build    only build the server and the model (e.g. to warm a CI cache)
#   tools/llama-server/start.sh --stop     stop the server this script started on $LLAMA_SERVER_PORT
#
# Everything comes from PyPI, through pip: llama.cpp's source from the llama-cpp-python sdist
# (which vendors it), cmake as a wheel, and the `gguf` package that writes the model
# (make_model.py). Nothing is fetched from GitHub or a model hub, and the cmake flags turn off
# every download llama.cpp's build could make (the web UI's prebuilt assets).
#
# The cache lives outside the clone, in $PROVCHECK_CACHE/llama-server (default
# ~/.cache/provcheck/llama-server): a venv with the pinned build tools, the sdist (src/), the
# build tree and the binary (build-<llama-cpp-python version>/, bin-<version>/), the model keyed
# by make_model.py's hash (models/), and the PID and log files (run/). A machine that has the binary skips the build (about 13 minutes on 2 cores;
# the compiler runs under nice and ionice so it only takes idle CPU). Starting is idempotent:
# a server this script started that still answers /health is left running.
#
# Environment: LLAMA_SERVER_PORT (8088), LLAMA_SERVER_START_TIMEOUT seconds to wait for /health
# (120), LLAMA_SERVER_JOBS build parallelism (2), PROVCHECK_CACHE.
set -euo pipefail

# Pins: change one and the next start rebuilds (binary) or remakes the model (gguf, numpy).
LLAMA_CPP_PYTHON_VERSION=0.3.36
CMAKE_VERSION=4.4.5
SCIKIT_BUILD_CORE_VERSION=1.1.2
GGUF_VERSION=0.19.0
NUMPY_VERSION=2.4.6

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port="${LLAMA_SERVER_PORT:-8088}"
timeout="${LLAMA_SERVER_START_TIMEOUT:-120}"
jobs="${LLAMA_SERVER_JOBS:-2}"
cache="${PROVCHECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/provcheck}/llama-server"
venv="$cache/venv-cmake$CMAKE_VERSION-gguf$GGUF_VERSION-numpy$NUMPY_VERSION"
sdist_dir="$cache/src"
build="$cache/build-$LLAMA_CPP_PYTHON_VERSION"
build_log="$cache/build-$LLAMA_CPP_PYTHON_VERSION.log"
binary="$cache/bin-$LLAMA_CPP_PYTHON_VERSION/llama-server"
run_dir="$cache/run"
pid_file="$run_dir/llama-server-$port.pid"
log_file="$run_dir/llama-server-$port.log"
base="http://127.0.0.1:$port"
# The names the targets in targets.yaml send; all of them are the one tiny model.
aliases="provcheck-tiny,provcheck-tiny-second,provcheck-tiny-tools"

die() { echo "llama-server/start.sh: $*" >&2; exit 1; }
say() { echo "llama-server/start.sh: $*" >&2; }

# Runs a heavy step so that it only uses idle CPU and disk.
quietly() {
  if command -v ionice >/dev/null 2>&1; then
    nice -n 19 ionice -c3 "$@"
  else
    nice -n 19 "$@"
  fi
}

ensure_venv() {
  if [[ -x "$venv/bin/cmake" && -f "$venv/.complete" ]]; then return; fi
  command -v python3 >/dev/null || die "python3 is needed (for pip, cmake and gguf)"
  say "creating the build-tools venv at $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" || die "python3 -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "cmake==$CMAKE_VERSION" "scikit-build-core==$SCIKIT_BUILD_CORE_VERSION" \
    "gguf==$GGUF_VERSION" "numpy==$NUMPY_VERSION" || die "pip install of the build tools failed"
  touch "$venv/.complete"
}

# llama.cpp's source, as vendored by the llama-cpp-python sdist on PyPI.
ensure_source() {
  local src="$sdist_dir/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION/vendor/llama.cpp"
  if [[ -f "$src/CMakeLists.txt" ]]; then echo "$src"; return; fi
  mkdir -p "$sdist_dir"
  say "downloading the llama-cpp-python $LLAMA_CPP_PYTHON_VERSION sdist from PyPI"
  # --no-build-isolation with scikit-build-core in the venv: pip reads the sdist's metadata
  # without building llama.cpp.
  "$venv/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps \
    --no-build-isolation --no-binary :all: -d "$sdist_dir" \
    "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" >&2 || die "pip download of llama-cpp-python failed"
  tar -xzf "$sdist_dir/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION.tar.gz" -C "$sdist_dir" \
    || die "could not unpack the sdist"
  [[ -f "$src/CMakeLists.txt" ]] || die "the sdist has no vendor/llama.cpp/CMakeLists.txt"
  echo "$src"
}

ensure_binary() {
  if [[ -x "$binary" ]]; then return; fi
  ensure_venv
  local src
  src="$(ensure_source)"
  say "building llama-server from $src (once; about 13 minutes on 2 cores, log in $build_log)"
  local started=$SECONDS
  {
    # CPU only, static, only the server target; no TLS (this llama.cpp has no curl option any
    # more), no web UI (its prebuilt assets would be downloaded from a model hub), no tests or
    # examples. GGML_NATIVE=OFF so that a
    # cached binary also runs on another CPU of the same architecture.
    quietly "$venv/bin/cmake" -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release \
      -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=OFF -DLLAMA_OPENSSL=OFF \
      -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_LLGUIDANCE=OFF \
      -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF \
      -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON &&
      quietly "$venv/bin/cmake" --build "$build" --target llama-server -j "$jobs"
  } >"$build_log" 2>&1 || { tail -n 30 "$build_log" >&2; die "the build failed (log: $build_log)"; }
  mkdir -p "$(dirname "$binary")"
  cp "$build/bin/llama-server" "$binary.tmp" && mv "$binary.tmp" "$binary"
  say "built $binary in $((SECONDS - started)) s"
}

# The model is keyed by the generator's hash, so editing make_model.py makes a new one.
ensure_model() {
  local digest
  digest="$(sha256sum "$here/make_model.py" | cut -c1-16)"
  model="$cache/models/tiny-random-$digest-gguf$GGUF_VERSION-numpy$NUMPY_VERSION.gguf"
  if [[ -f "$model" ]]; then return; fi
  ensure_venv
  mkdir -p "$cache/models"
  "$venv/bin/python" "$here/make_model.py" "$model.tmp" || die "make_model.py failed"
  mv "$model.tmp" "$model"
  say "wrote $model ($(wc -c <"$model") bytes)"
}

running_pid() {
  [[ -f "$pid_file" ]] || return 1
  local pid
  pid="$(cat "$pid_file")"
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

healthy() { curl -fsS --max-time 2 "$base/health" >/dev/null 2>&1; }

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$pid_file"
    say "no llama-server started by this script is running on port $port"
    return 0
  fi
  kill "$pid"
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
  rm -f "$pid_file"
  say "stopped llama-server (pid $pid, port $port)"
}

print_urls() {
  cat <<EOF
LLAMA_SERVER_OPENAI_BASE_URL=$base/v1
LLAMA_SERVER_ANTHROPIC_BASE_URL=$base
LLAMA_SERVER_PID=$1
LLAMA_SERVER_LOG=$log_file
EOF
}

start() {
  local pid
  if pid="$(running_pid)" && healthy; then
    say "llama-server is already running (pid $pid, port $port)"
    print_urls "$pid"
    return 0
  fi
  rm -f "$pid_file"
  if healthy; then die "something else already answers on $base; set LLAMA_SERVER_PORT"; fi
  command -v curl >/dev/null || die "curl is needed to wait for /health"
  mkdir -p "$run_dir"
  # --jinja: the model's chat template renders tools and tool calls. Four slots so concurrent
  # trials don't queue; a small context is plenty for the suites. No web UI. A fixed seed, so
  # the same request gets the same reply and live runs repeat.
  "$binary" -m "$model" --alias "$aliases" --host 127.0.0.1 --port "$port" \
    --jinja -c 8192 --parallel 4 --threads 2 --no-webui --seed 1 </dev/null >"$log_file" 2>&1 &
  pid=$!
  echo "$pid" >"$pid_file"
  local deadline=$((SECONDS + timeout))
  until healthy; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pid_file"
      tail -n 30 "$log_file" >&2
      die "llama-server exited during startup (log: $log_file)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$log_file" >&2
      stop
      die "llama-server did not answer $base/health within $timeout s (log: $log_file)"
    fi
    sleep 0.25
  done
  say "llama-server is up (pid $pid): OpenAI base URL $base/v1, Anthropic base URL $base"
  print_urls "$pid"
}

case "${1:-}" in
  --stop) stop ;;
  --build) ensure_binary; ensure_model; echo "$binary" ;;
  "") ensure_binary; ensure_model; start ;;
  *) die "unknown argument '$1' (usage: start.sh [--build | --stop])" ;;
esac
