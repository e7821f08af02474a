#!/usr/bin/env bash
# The course's two commands. Both set everything up first (a .venv beside this file), so either works on a fresh
# machine that has Python 3.10+:
#
#   bash course.sh lab       # open the course in JupyterLab
#   bash course.sh test      # stage 1: unit tests + every notebook (strict nbval);
#                            # stage 2: every notebook in JupyterLab in a real headless Chromium (widgets included)
#   bash course.sh test ARGS # stage 1 only, with ARGS passed to pytest (e.g. tests/ or notebooks/01_attention.ipynb)
#   bash course.sh browser [ARGS]  # stage 2 only (ARGS to pytest, e.g. -k 01_attention)
#   bash course.sh slides [NN ...] # a reveal.js deck per chapter in build/slides/ (opens offline; lecture mode)
#   bash course.sh book      # the web edition in build/book/ (Jupyter Book; the notebooks are not executed)
#
# Environment knobs: PYTHON=python3.12 picks the interpreter; MINIBERT_VENV=path puts the environment elsewhere;
# MINIBERT_TORCH="torch==2.13.0" is what gets installed when no torch is present. Which build: scripts/install_torch.py
# decides (Linux without an NVIDIA GPU: the CPU build from PyTorch's CPU index; that index unreachable: the default
# index, with a loud message, which on Linux x86-64 means the ~3 GB CUDA build; an NVIDIA GPU, macOS or Windows: the
# default index, as pip would); MINIBERT_TORCH_INDEX=URL forces an index.
# MINIBERT_KERNELS=avx2 runs stage 1 with torch's and MKL's kernels forced to AVX2 (an older laptop or a CI runner:
# different round-off, which no compared output may depend on; CI sets it). MINIBERT_NBVAL=lax executes every
# notebook without comparing outputs (the "newest torch" job: a new release may change random streams and kernels).
# MINIBERT_WORKERS=N runs N test processes side by side in stage 1 (pytest-xdist; default: 2 on a machine
# with 2 or more cores, else 1; stage 2 runs one chapter at a time unless MINIBERT_BROWSER_WORKERS=N). With more than one worker every process and notebook kernel uses ONE torch thread
# (MINIBERT_THREADS=1, OMP/MKL_NUM_THREADS=1): two kernels of two threads each on two cores once slowed a training
# cell from 40 s to over 300 s. Printed results do not depend on the thread count (every chapter passes strict
# nbval either way).
# Stage 2 drives the machine's Chromium (never downloads one): MINIBERT_CHROMIUM=/path/to/chrome picks it; without
# one, it is installed with apt-get when that is possible (root), else stage 2 is skipped with a loud message, or
# fails when MINIBERT_REQUIRE_BROWSER=1 (CI sets it).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT="$(pwd)"
VENV="${MINIBERT_VENV:-$ROOT/.venv}"
TORCH_SPEC="${MINIBERT_TORCH:-torch==2.13.0}"

usage() {
    sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
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
    # torch first, and the build that fits the machine (see the knobs above): left to pip, `pip install torch` on
    # Linux pulls a multi-GB CUDA build even on a laptop without a GPU. A torch that is already installed is kept.
    if ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
        "$VENV/bin/python" scripts/install_torch.py "$TORCH_SPEC"
    fi
    "$VENV/bin/python" -m pip install --quiet -e ".[test]"
    "$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (minibert)" >/dev/null
    touch "$stamp"
}

stage1_environment() {
    # MINIBERT_KERNELS=avx2: the round-off of another machine (the committed outputs were made on native kernels).
    if [ "${MINIBERT_KERNELS:-native}" = "avx2" ]; then
        export ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 OPENBLAS_CORETYPE=Haswell
        echo "==> stage 1 runs with the kernels forced to AVX2 (MINIBERT_KERNELS=avx2)"
    fi
    NBVAL_ARGS=()
    if [ "${MINIBERT_NBVAL:-strict}" = "lax" ]; then
        NBVAL_ARGS=(--nbval-lax)
        echo "==> notebooks are executed but their outputs not compared (MINIBERT_NBVAL=lax)"
    fi
}

run_pytest() {
    # pytest, with "collected no tests" (exit 5) counted as a failure, not a pass. Returns pytest's status.
    set +e
    "$VENV/bin/python" -m pytest "$@"
    local status=$?
    set -e
    if [ "$status" -eq 5 ]; then
        echo "course.sh: pytest collected no tests; that is a failure, not a pass" >&2
        status=1
    fi
    return "$status"
}

find_chromium() {
    "$VENV/bin/python" -c 'import sys; sys.path.insert(0, "tests/browser"); from browser_lab import find_chromium
print(find_chromium() or "")'
}

install_chromium() {
    # Debian's (or Ubuntu's) package, never a browser build downloaded by a tool. Only as root or with sudo that
    # asks no password: a test command should not stop to ask for one.
    command -v apt-get >/dev/null 2>&1 || return 1
    local sudo=()
    if [ "$(id -u)" != "0" ]; then
        sudo -n true 2>/dev/null || return 1
        sudo=(sudo -n)
    fi
    echo "==> installing Chromium for the browser stage (apt-get install chromium)"
    ${sudo[@]+"${sudo[@]}"} apt-get update -qq >/dev/null &&
        DEBIAN_FRONTEND=noninteractive ${sudo[@]+"${sudo[@]}"} apt-get install -y -qq --no-install-recommends \
            chromium fonts-liberation fonts-dejavu-core >/dev/null
}

loud() {
    local line="##########################################################################################"
    printf '\n%s\n' "$line" >&2
    for text in "$@"; do printf '#  %s\n' "$text" >&2; done
    printf '%s\n\n' "$line" >&2
}

BROWSER_SKIPPED=0
run_browser_stage() {
    # Every chapter in JupyterLab in headless Chromium: no errors, every widget rendered, every slider/dropdown
    # changes its figure; then a few lecture decks and pages of the web edition (built into build/ when missing or
    # older than the notebooks). Screenshots go to test-output/browser/.
    if [ -z "$(find_chromium)" ]; then
        install_chromium || true
    fi
    if [ -z "$(find_chromium)" ]; then
        loud "STAGE 2 SKIPPED: the notebooks were NOT run in a real browser." \
             "No Chromium on this machine, and none could be installed (that needs apt-get as root)." \
             "Install Chromium (or set MINIBERT_CHROMIUM=/path/to/chrome), then run: bash course.sh browser"
        if [ "${MINIBERT_REQUIRE_BROWSER:-0}" = "1" ]; then
            echo "course.sh: MINIBERT_REQUIRE_BROWSER=1, so a skipped browser stage is a failure" >&2
            return 1
        fi
        BROWSER_SKIPPED=1
        return 0
    fi
    run_pytest tests/browser/chapters_in_browser.py tests/browser/web_in_browser.py -p no:nbval -p no:cacheprovider -o addopts=-ra "$@"
}

default_workers() {
    local cores
    cores="$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)"
    if [ "$cores" -ge 2 ]; then echo 2; else echo 1; fi
}
WORKERS=1
use_workers() {
    # the test stages only (JupyterLab for learners keeps two threads per notebook)
    WORKERS="${MINIBERT_WORKERS:-$(default_workers)}"
    if [ "$WORKERS" -gt 1 ]; then
        # one torch thread per process and per notebook kernel: N workers never oversubscribe the cores
        export MINIBERT_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
    fi
}

browser_workers() {
    # Stage 2 runs one chapter at a time with two torch threads per kernel (MINIBERT_BROWSER_WORKERS=N to change):
    # with two browsers side by side and one thread each, chapter 02's widget search ran out of its time budget.
    unset MINIBERT_THREADS OMP_NUM_THREADS MKL_NUM_THREADS OMP_WAIT_POLICY
    WORKERS="${MINIBERT_BROWSER_WORKERS:-1}"
}

parallel_args() {
    # $1 = how tests are dealt to the workers: "loadfile" for stage 1 (a notebook's cells must run in order in one
    # kernel, so a file stays on one worker), "load" for stage 2 (each chapter is one test, on its own).
    [ "$WORKERS" -gt 1 ] && echo "-n $WORKERS --dist $1"
    return 0
}

setup_web() {
    # The decks' and the book's tools (the `web` extra: Jupyter Book 1.x, and the packages that ship reveal.js and
    # MathJax for offline pages). The test extra includes them; a .venv made before they were added gets them here.
    setup
    if ! "$VENV/bin/python" -c 'import jupyter_book, sphinx_revealjs, jupyter_server_mathjax' 2>/dev/null; then
        echo "==> installing the web edition's tools into $VENV (the web extra)"
        "$VENV/bin/python" -m pip install --quiet -e ".[web]"
    fi
}

banner() {
    printf '\n=== %s ===\n\n' "$1"
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
        stage1_environment
        if [ "$#" -gt 0 ]; then
            run_pytest ${NBVAL_ARGS[@]+"${NBVAL_ARGS[@]}"} "$@" && exit 0 || exit $?
        fi
        use_workers
        banner "stage 1 of 2: unit tests + notebooks (strict nbval)"
        stage1=0
        started=$SECONDS
        run_pytest ${NBVAL_ARGS[@]+"${NBVAL_ARGS[@]}"} $(parallel_args loadfile) || stage1=$?
        stage1_time=$((SECONDS - started))
        banner "stage 2 of 2: notebooks in a real browser (JupyterLab + headless Chromium)"
        browser_workers
        stage2=0
        started=$SECONDS
        run_browser_stage $(parallel_args load) || stage2=$?
        stage2_time=$((SECONDS - started))
        verdict() { if [ "$1" != 0 ]; then echo FAILED; elif [ "${2:-0}" = 1 ]; then echo SKIPPED; else echo passed; fi; }
        banner "stage 1 (unit + nbval): $(verdict "$stage1") in ${stage1_time} s; stage 2 (browser): $(verdict "$stage2" "$BROWSER_SKIPPED") in ${stage2_time} s; ${WORKERS} worker(s)"
        [ "$stage1" = 0 ] && [ "$stage2" = 0 ]
        ;;
    browser)
        shift
        setup
        browser_workers
        if [ "$#" -gt 0 ]; then run_browser_stage "$@"; else run_browser_stage $(parallel_args load); fi
        ;;
    slides)
        shift
        setup_web
        exec "$VENV/bin/python" scripts/web_edition.py slides "$@"
        ;;
    book)
        shift
        [ "$#" -eq 0 ] || { echo "course.sh: 'book' takes no arguments" >&2; exit 2; }
        setup_web
        PATH="$VENV/bin:$PATH" exec "$VENV/bin/python" scripts/web_edition.py book
        ;;
    *)
        usage
        ;;
esac
