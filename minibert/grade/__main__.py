"""``python -m minibert.grade FOLDER [--out grades.csv] [--timeout 300] [--cell-timeout 120]``."""
import argparse
import sys
from pathlib import Path

from . import grade_folder, table, write_csv


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minibert.grade", description=__doc__)
    parser.add_argument("folder", type=Path, help="the folder of the students' notebooks")
    parser.add_argument("--out", type=Path, default=None, help="CSV file to write (default: FOLDER/grades.csv)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per notebook (default 300)")
    parser.add_argument("--cell-timeout", type=float, default=120.0, help="seconds per cell (default 120)")
    args = parser.parse_args(argv)
    try:
        results = grade_folder(args.folder, args.timeout, args.cell_timeout,
                               progress=lambda text: print(text, file=sys.stderr))
    except ValueError as err:
        parser.error(str(err))
    out = write_csv(results, args.out or args.folder / "grades.csv")
    print(table(results))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
