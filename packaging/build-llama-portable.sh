#!/usr/bin/env bash
# A portable CPU build of llama-cpp-python for the installers, printed as a wheel's path.
#
# pip's default build compiles llama.cpp for the building machine's CPU (GGML_NATIVE): an
# installer built that way dies of an illegal instruction on an older CPU. This builds the
# version pyproject.toml pins with GGML_NATIVE=OFF, the backends as loadable modules
# (GGML_BACKEND_DL) and the CPU backend once per x86 level (GGML_CPU_ALL_VARIANTS: x64, SSE4.2,
# AVX, AVX2, AVX-512, AVX-VNNI, AMX ...); ggml loads the best one the CPU runs when Hearth
# starts an engine (desktop/engine/devices.py, load_backends). llama-cpp-python installs only
# the libraries it names, so llama-cpu-variants.cmake adds the variants to the wheel. Extra
# CMake flags (a GPU backend, also a loadable module then) come from CMAKE_ARGS, e.g.
# CMAKE_ARGS="-DGGML_CUDA=on".
#
# The wheel is kept under $HEARTH_WHEEL_CACHE (default ~/.cache/hearth/wheels), keyed by the
# version, the flags and this folder's CMake file, so the next build reuses it as pip reuses
# its own builds (about 10 minutes on two cores without it).
#
#     wheel=$(packaging/build-llama-portable.sh) && pip install "$wheel"
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(command -v python || command -v python3)
# LLAVA_BUILD=OFF: not the multimodal library, which Hearth never loads (and the bundle leaves out).
flags="-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON -DLLAVA_BUILD=OFF"
[ "$(uname -s)" = Darwin ] && flags="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF"  # Apple silicon: one CPU level, Metal built in
include=$PWD/packaging/llama-cpu-variants.cmake
command -v cygpath >/dev/null && include=$(cygpath -m "$include")  # CMake on Windows wants C:/...
[ "$(uname -s)" = Darwin ] || flags="$flags -DCMAKE_PROJECT_llama_cpp_INCLUDE=$include"
flags="$flags ${CMAKE_ARGS:-}"
read -r version key < <("$python" - "$flags" <<'PY'
import hashlib, re, sys, tomllib
from pathlib import Path

deps = tomllib.loads(Path("pyproject.toml").read_text())["project"]["dependencies"]
version = next(re.sub(r"^llama-cpp-python==", "", d) for d in deps if d.startswith("llama-cpp-python=="))
flags = re.sub(r"-DCMAKE_PROJECT_llama_cpp_INCLUDE=\S+", "", sys.argv[1])  # not the checkout's path
digest = hashlib.sha256(f"{version}\n{' '.join(flags.split())}\n".encode())
digest.update(Path("packaging/llama-cpu-variants.cmake").read_bytes())
print(version, digest.hexdigest()[:16])
PY
)
cache="${HEARTH_WHEEL_CACHE:-$HOME/.cache/hearth/wheels}/llama-cpp-python-$version-$key"
if ! ls "$cache"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  rm -rf "$cache.partial" && mkdir -p "$cache.partial"
  echo "building llama-cpp-python $version, portable ($flags)" >&2
  CMAKE_ARGS="$flags" "$python" -m pip wheel --quiet --no-deps --no-cache-dir \
    --no-binary llama-cpp-python -w "$cache.partial" "llama-cpp-python==$version" >&2
  "$python" - "$cache.partial" <<'PY'
import sys, zipfile
from pathlib import Path

wheel = next(Path(sys.argv[1]).glob("llama_cpp_python-*.whl"))
names = [Path(n).name for n in zipfile.ZipFile(wheel).namelist() if "/lib/" in n]
variants = sorted(n for n in names if "ggml-cpu-" in n)
if sys.platform != "darwin" and not variants:
    sys.exit(f"{wheel.name} holds no CPU variants: {names}")
print(f"{wheel.name}: CPU variants {', '.join(variants) or '(one, macOS)'}", file=sys.stderr)
PY
  rm -rf "$cache" && mv "$cache.partial" "$cache"
fi
ls "$cache"/llama_cpp_python-*.whl
