"""``python -m bench``: run the benchmark cases and write ``bench/results.json``."""

from __future__ import annotations

import sys

from bench.harness import main

if __name__ == "__main__":
    sys.exit(main())
