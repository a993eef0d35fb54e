"""`make bench`: run every benchmark under bench/ and print its figures.

Each benchmark is a module here with a `main()`, listed below; `python -m bench
NAME` runs one. Benchmarks are run by hand, never by the test suite.
"""

import importlib
import sys

# The other modules here (common, openloop, settings, sandbox_settings, urls) are their tools.
BENCHMARKS = ["ingest", "outbound", "ratelimit", "conversation", "api"]


def main(argv: list[str]) -> int:
    names = argv or BENCHMARKS
    for name in names:
        print(f"=== bench/{name}.py")
        importlib.import_module(f"bench.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
