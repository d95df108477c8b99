#!/usr/bin/env bash
# The GPU check, bench/gpu_check.py, on a CUDA machine without network whose Python already holds a CUDA build of
# PyTorch, sentencepiece, sacrebleu, safetensors, pyyaml, tqdm and matplotlib.
#
#   bash bench/gpu_check.sh --download [CORPUS_DIR]   # beforehand, where pip has network: the wheels that such a
#                                                     # machine lacks into .gpu/wheels, small_parallel_enja into .gpu/data
#   bash bench/gpu_check.sh [gpu_check.py options]    # on the GPU machine, with .gpu/ beside the checkout's files
#
# It installs honyaku from this checkout without its dependencies (pip install --no-deps -e .) and the wheels in
# .gpu/wheels, then runs the check (bench/gpu_check.py) on the corpus in .gpu/data, else the default one.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
WHEELS=.gpu/wheels
CORPUS=.gpu/data/small_parallel_enja
# Pure-Python packages honyaku needs beyond what the GPU machine holds (pinned: one version each).
MISSING=(sacremoses==0.2.0 matplotlib-fontja==1.1.0)

if [ "${1:-}" = "--download" ]; then
    "$PYTHON" -m pip download -q --no-deps --only-binary=:all: -d "$WHEELS" "${MISSING[@]}"
    source_dir=${2:-${HONYAKU_DATA_DIR:-}}
    [ -n "$source_dir" ] || { echo "bench/gpu_check.sh: give small_parallel_enja's directory (or set HONYAKU_DATA_DIR)" >&2; exit 2; }
    mkdir -p "$CORPUS"
    for split in train dev test; do cp "$source_dir/$split.en" "$source_dir/$split.ja" "$CORPUS/"; done
    echo "ready: $WHEELS ($(ls "$WHEELS" | wc -l) wheels), $CORPUS"
    exit 0
fi

"$PYTHON" - <<'CHECK'
import sys
try:
    import torch
except ImportError:
    sys.exit(f"bench/gpu_check.sh: error: {sys.executable} has no PyTorch; set PYTHON to the Python that has its CUDA build")
if not torch.cuda.is_available():
    built = f"CUDA {torch.version.cuda}, no GPU visible" if torch.version.cuda else "a CPU-only build"
    sys.exit(f"bench/gpu_check.sh: error: no CUDA device (torch {torch.__version__}: {built}); run it on a GPU machine")
CHECK
if compgen -G "$WHEELS/*.whl" > /dev/null; then
    "$PYTHON" -m pip install -q --no-index --no-deps "$WHEELS"/*.whl
fi
"$PYTHON" -m pip install -q --no-index --no-deps --no-build-isolation -e .
data=()
[ -f "$CORPUS/train.en" ] && data=(--data-dir "$CORPUS")
PYTHONUNBUFFERED=1 exec "$PYTHON" bench/gpu_check.py "${data[@]}" "$@"
