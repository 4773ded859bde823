"""Entry point of a multi-process DirectRunner worker: Beam's SDK harness, without start-up chatter.

Beam's own entry (``apache_beam.runners.worker.sdk_worker_main``) logs to the
terminal at INFO until it has read the pipeline options, and some imports warn
through the root logger (which then configures itself to print). A handler on
the root logger installed *before* Beam is imported keeps the worker's
terminal output to real errors (everything is still forwarded to the runner
through Beam's logging service). ``SYNTHBEAM_WORKER_LOG_LEVEL`` overrides the
level (``synthbeam --debug`` sets it to INFO).
"""

from __future__ import annotations

import logging
import os
import sys


def main(argv: list[str] | None = None) -> None:
    level = os.environ.get("SYNTHBEAM_WORKER_LOG_LEVEL", "ERROR").upper()
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(getattr(logging, level, logging.ERROR))
    logging.getLogger().addHandler(handler)

    from apache_beam.runners.worker import sdk_worker_main

    sdk_worker_main.main(list(sys.argv if argv is None else argv))


if __name__ == "__main__":
    main()
