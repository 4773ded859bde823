"""``python -m synthbeam.pipeline``: the same as the ``synthbeam`` console script."""

from __future__ import annotations

import sys

from synthbeam.pipeline.cli import main

if __name__ == "__main__":
    sys.exit(main())
