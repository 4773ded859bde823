"""Dataflow Flex Template entry point: template parameters -> ``synthbeam generate``.

The launcher calls this file with every template parameter as ``--name=value``
plus Dataflow's own pipeline options (``--project``, ``--region``,
``--temp_location``, ``--sdk_container_image``, ...). The synthbeam
parameters (see ``metadata.json``) become the CLI's options; everything else
passes through to Beam. The job is submitted without waiting: its last step
moves the staged files into place and writes ``OUTPUT/_report.json`` itself.
"""

from __future__ import annotations

import sys

# template parameter -> synthbeam generate option
PARAMETERS = {
    "output": "--out",
    "format": "--format",
    "rows": "--rows",
    "scale": "--scale",
    "seed": "--seed",
    "environment": "--environment",
    "as_of": "--as-of",
    "num_shards": "--num-shards",
}


def translate(argv: list[str]) -> list[str]:
    """The ``synthbeam`` argument list for the launcher's ``argv``."""
    config = None
    options: list[str] = []
    beam: list[str] = []
    pending = list(argv)
    while pending:
        arg = pending.pop(0)
        name, has_value, value = arg.lstrip("-").partition("=")
        if not arg.startswith("--"):
            beam.append(arg)
            continue
        if not has_value and pending and not pending[0].startswith("--"):
            value, has_value = pending.pop(0), "="
        if name == "config":
            config = value
        elif name == "overwrite":
            if value.lower() in ("", "true", "1", "yes"):
                options.append("--overwrite")
        elif name in PARAMETERS:
            if value != "":
                options += [PARAMETERS[name], value]
        else:
            beam.append(f"--{name}={value}" if has_value else arg)
    if config is None:
        raise SystemExit("the 'config' template parameter is required")
    if not any(b.startswith("--runner") for b in beam):
        beam.append("--runner=DataflowRunner")
    return ["generate", config, *options, "--no-wait", "--no-progress", *beam]


def main() -> int:
    from synthbeam.pipeline.cli import main as synthbeam

    return synthbeam(translate(sys.argv[1:]))


if __name__ == "__main__":
    sys.exit(main())
