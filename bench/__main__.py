"""`make bench`: run every benchmark under bench/ and print its figures.

Each benchmark is a module here with a `main()`, listed below; `python -m bench
NAME` runs one, and `python -m bench NAME:PART` one part of a module whose `main`
takes one (api:catalog, api:events). Benchmarks are run by hand, never by the test suite.
"""

import importlib
import sys

# The other modules here (common, openloop, settings, sandbox_settings, urls) are their tools.
BENCHMARKS = ["ingest", "outbound", "ratelimit", "conversation", "api", "campaign"]


def main(argv: list[str]) -> int:
    names = argv or BENCHMARKS
    for name in names:
        module, _, part = name.partition(":")
        print(f"=== bench/{module}.py" + (f" ({part})" if part else ""))
        importlib.import_module(f"bench.{module}").main(*([part] if part else []))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
