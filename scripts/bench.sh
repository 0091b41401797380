#!/usr/bin/env bash
# The benchmark command: deltac against llama.cpp on the same synthesized GGUF weights, 2 threads
# each (bench/compare.py says what is measured). Installs what it needs: deltac's own set-up, numpy
# and gguf, and llama.cpp through llama-cpp-python built from source for this CPU (the first run
# compiles it, several minutes).
#   scripts/bench.sh [--sizes 0.8b,2b] [--runs 3] [--threads 2] ...   (options of bench/compare.py)
set -euo pipefail
cd "$(dirname "$0")/.."

LLAMA_CPP_PYTHON_VERSION=0.3.36

./scripts/setup.sh
./scripts/build.sh
python3 -m pip install --quiet numpy gguf
if ! python3 -c "import llama_cpp" 2>/dev/null; then
  echo "== building llama.cpp (llama-cpp-python $LLAMA_CPP_PYTHON_VERSION from source, native)"
  CMAKE_ARGS="-DGGML_NATIVE=ON -DLLAMA_CURL=OFF" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
    python3 -m pip install --no-binary llama-cpp-python "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION"
fi
BUILD_DIR=${DELTAC_BUILD_DIR:-build}
python3 bench/compare.py --deltac "$BUILD_DIR/bin/deltac" --work .bench "$@"
