"""``python -m synthbeam.pipeline``: the same as the ``synthbeam`` console script."""

from __future__ import annotations

from synthbeam.pipeline.cli import run

if __name__ == "__main__":
    run()
