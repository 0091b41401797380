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
# llama.cpp is built for this CPU (-march=native), except on CPUs with AMX: there its AMX matrix
# path (ggml-cpu/amx, which -march=native turns on) died with SIGILL in the first prefill on the
# Emerald Rapids VM (docs/perf.md, "The machines"), so it gets every other x86 extension ggml uses
# by name. LLAMA_CPP_CMAKE_ARGS overrides the choice.
if [[ -z "${LLAMA_CPP_CMAKE_ARGS:-}" ]]; then
  if grep -qw amx_int8 /proc/cpuinfo; then
    LLAMA_CPP_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_BMI2=ON -DGGML_FMA=ON \
-DGGML_F16C=ON -DGGML_AVX_VNNI=ON -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON \
-DGGML_AVX512_BF16=ON"
  else
    LLAMA_CPP_CMAKE_ARGS="-DGGML_NATIVE=ON"
  fi
fi
if ! python3 -c "import llama_cpp" 2>/dev/null; then
  echo "== building llama.cpp (llama-cpp-python $LLAMA_CPP_PYTHON_VERSION from source: $LLAMA_CPP_CMAKE_ARGS)"
  CMAKE_ARGS="$LLAMA_CPP_CMAKE_ARGS -DLLAMA_CURL=OFF" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
    python3 -m pip install --no-binary llama-cpp-python "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION"
fi
BUILD_DIR=${DELTAC_BUILD_DIR:-build}
python3 bench/compare.py --deltac "$BUILD_DIR/bin/deltac" --work .bench "$@"
