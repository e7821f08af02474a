"""Re-execute the course notebooks in place so their committed outputs are fresh, and check each one's budget.

    python scripts/execute_notebooks.py                 # every notebook in notebooks/
    python scripts/execute_notebooks.py 01 03           # chapters whose file name starts with 01 or 03
    python scripts/execute_notebooks.py --check         # execute into a scratch copy, report, change nothing

Each notebook runs in its own process (so its peak memory can be read) with the checkout's minibert first on the
path, offline, with 2 threads: the conditions of CI and of a student's laptop. Budget per notebook
(docs/architecture.md): 60 s and 1.5 GB; the script exits non-zero when one is over, or when a cell fails.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
TIME_BUDGET_S = 60.0
MEMORY_BUDGET_MB = 1536.0


def course_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")])),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "TRANSFORMERS_VERBOSITY": "error",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "OMP_NUM_THREADS": "2",
        "MKL_NUM_THREADS": "2",
        "RAYON_NUM_THREADS": "2",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    })
    return env


def execute_one(path: Path, output: Path, timeout: int) -> None:
    """Runs inside the child process: execute ``path`` and write the result to ``output``."""
    import nbformat

    from minibert.grade.client import notebook_client  # nbclient's, waiting for kernel messages in slices

    notebook = nbformat.read(path, as_version=4)
    notebook.metadata.pop("jupytext", None)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    client = notebook_client(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    for cell in notebook.cells:  # timestamps would make every re-run a diff
        cell.get("metadata", {}).pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = final_progress_state(cell.outputs)
    nbformat.write(notebook, output)


def final_progress_state(outputs: list) -> list:
    """Consecutive pieces of one stream, joined, with each carriage-return-redrawn line (a tqdm progress bar) kept
    in its final state only: what a terminal would show, instead of hundreds of intermediate frames."""
    merged = []
    for out in outputs:
        if out.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream" \
                and merged[-1].get("name") == out.get("name"):
            merged[-1]["text"] += out["text"]
        else:
            merged.append(out)
    for out in merged:
        if out.get("output_type") == "stream" and "\r" in out["text"]:
            out["text"] = "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in out["text"].split("\n"))
    return merged


def run(path: Path, check_only: bool, timeout: int) -> tuple[float, float, str | None]:
    target = path.with_suffix(".check.ipynb") if check_only else path
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--child", str(path), str(target), str(timeout)],
                          env=course_environment(), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # includes the kernel (a grandchild)
    if check_only and target.exists():
        target.unlink()
    error = None if proc.returncode == 0 else failure_summary(proc.stderr)
    return seconds, peak_mb, error


def failure_summary(stderr: str) -> str:
    """The line that names the error (nbclient ends its report with a rule of dashes, not with the error)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and set(line.strip()) - set("-")]
    named = [line for line in lines if line.split(":")[0].endswith(("Error", "Exception", "Interrupt"))]
    return (named or lines or ["failed"])[-1][:300]


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        execute_one(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", help="chapter number prefixes (default: all)")
    parser.add_argument("--check", action="store_true", help="execute a scratch copy, leave the notebooks alone")
    parser.add_argument("--timeout", type=int, default=300, help="per-cell timeout in seconds")
    args = parser.parse_args()
    paths = sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb") if not p.name.endswith(".check.ipynb"))
    if args.chapters:
        paths = [p for p in paths if any(p.name.startswith(c) for c in args.chapters)]
    if not paths:
        print("no notebooks matched", file=sys.stderr)
        return 1
    failures = 0
    print(f"{'notebook':36}{'seconds':>9}{'peak MB':>9}  status")
    for path in paths:
        # ru_maxrss of children is a running maximum, so each notebook gets a fresh measuring process.
        proc = subprocess.run([sys.executable, __file__, "--measure", str(path), str(int(args.check)),
                               str(args.timeout)], capture_output=True, text=True)
        if proc.returncode != 0 and not proc.stdout.strip():
            print(f"{path.name:36}  could not run: {proc.stderr.strip()[-300:]}")
            failures += 1
            continue
        seconds, peak_mb, error = json.loads(proc.stdout.strip().splitlines()[-1])
        over = [f"over {TIME_BUDGET_S:.0f} s" for _ in [0] if seconds > TIME_BUDGET_S]
        over += [f"over {MEMORY_BUDGET_MB:.0f} MB" for _ in [0] if peak_mb > MEMORY_BUDGET_MB]
        status = f"FAILED: {error}" if error else ("; ".join(over) if over else "ok")
        failures += bool(error or over)
        print(f"{path.name:36}{seconds:9.1f}{peak_mb:9.0f}  {status}")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--measure":
        print(json.dumps(run(Path(sys.argv[2]), bool(int(sys.argv[3])), int(sys.argv[4]))))
        sys.exit(0)
    sys.exit(main())
