#!/usr/bin/env bash
# The course's two commands. Both set everything up first (a .venv beside this file), so either works on a fresh
# machine that has Python 3.10+:
#
#   bash course.sh lab     # open the course in JupyterLab
#   bash course.sh test    # run every unit test and every notebook (strict nbval)
#
# Environment knobs: PYTHON=python3.12 picks the interpreter; MINIBERT_VENV=path puts the environment elsewhere;
# MINIBERT_TORCH="torch==2.13.0" is what gets installed when no torch is present (CPU build here; on a machine
# whose pip would pick a CUDA build, point PIP_EXTRA_INDEX_URL at https://download.pytorch.org/whl/cpu).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT="$(pwd)"
VENV="${MINIBERT_VENV:-$ROOT/.venv}"
TORCH_SPEC="${MINIBERT_TORCH:-torch==2.13.0}"

usage() {
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

find_python() {
    for candidate in "${PYTHON:-}" python3 python; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
    echo "course.sh: no Python 3.10 or newer found; install one or set PYTHON=/path/to/python3" >&2
    exit 1
}

setup() {
    local stamp="$VENV/.minibert-installed"
    if [ ! -x "$VENV/bin/python" ]; then
        echo "==> creating $VENV"
        "$(find_python)" -m venv "$VENV"
    fi
    # Reinstall only when the package description changed since the last setup.
    if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ] && "$VENV/bin/python" -c 'import minibert' 2>/dev/null; then
        return
    fi
    echo "==> installing the course into $VENV (first run takes a few minutes)"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    # torch first, pinned: an unpinned torch on a CPU machine can pull a multi-GB CUDA build. A newer torch that
    # is already installed is kept.
    if ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
        "$VENV/bin/python" -m pip install --quiet "$TORCH_SPEC"
    fi
    "$VENV/bin/python" -m pip install --quiet -e ".[test]"
    "$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (minibert)" >/dev/null
    touch "$stamp"
}

run_tests() {
    # Unit tests and every notebook in strict nbval mode (see [tool.pytest.ini_options] in pyproject.toml).
    set +e
    "$VENV/bin/python" -m pytest "$@"
    local status=$?
    set -e
    if [ "$status" -eq 5 ]; then
        echo "course.sh: pytest collected no tests; that is a failure, not a pass" >&2
        exit 1
    fi
    exit "$status"
}

case "${1:-}" in
    lab)
        shift
        setup
        export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
        extra=()
        [ "$(id -u)" = "0" ] && extra+=(--allow-root)
        exec "$VENV/bin/jupyter" lab ${extra[@]+"${extra[@]}"} notebooks/00_welcome.ipynb "$@"
        ;;
    test)
        shift
        setup
        run_tests "$@"
        ;;
    *)
        usage
        ;;
esac
