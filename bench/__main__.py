"""`make bench`: run every benchmark under bench/ and print its figures.

Each benchmark is a module here with a `main()`; `python -m bench NAME` runs one.
Benchmarks are run by hand, never by the test suite.
"""

import importlib
import pkgutil
import sys
from pathlib import Path


def benchmark_names() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    names = argv or benchmark_names()
    if not names:
        print("no benchmarks yet")
        return 0
    for name in names:
        print(f"=== bench/{name}.py")
        importlib.import_module(f"bench.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
