"""Start-up to the main window, of the source tree or of a built app.

    QT_QPA_PLATFORM=offscreen python -m benchmarks.startup [--reps 5] [EXECUTABLE]

EXECUTABLE: the frozen bundle's ``dist/hearth/hearth`` or the installed ``/usr/bin/hearth``
(default: ``python -m desktop``). Each start has a fresh HEARTH_HOME and no model; prints
every time and the median (targets: 1.5 s from source, 2 s frozen).
"""

from __future__ import annotations

import argparse
import statistics

from benchmarks.engine_overhead import startup_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("executable", nargs="?")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    command = [args.executable] if args.executable else None
    times = [startup_seconds(command) for _ in range(args.reps)]
    print(
        f"{args.executable or 'python -m desktop'} to its window: "
        + ", ".join(f"{t:.2f}" for t in times)
        + f" s; median {statistics.median(times):.2f} s"
    )


if __name__ == "__main__":
    main()
