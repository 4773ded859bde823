"""The Dataflow Flex Template: metadata that Dataflow accepts, a launcher that maps it onto the CLI."""

from __future__ import annotations

import importlib.util
import json
import re

from tests.conftest import REPO

FLEX = REPO / "templates" / "flex"


def _launcher():
    spec = importlib.util.spec_from_file_location("flex_launch", FLEX / "launch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_metadata_lists_the_parameters_the_launcher_maps() -> None:
    metadata = json.loads((FLEX / "metadata.json").read_text())
    names = {p["name"] for p in metadata["parameters"]}
    assert {"config", "output", "rows", "scale", "seed", "format"} <= names
    assert names == set(_launcher().PARAMETERS) | {"config", "overwrite"}
    for parameter in metadata["parameters"]:
        assert parameter["label"] and parameter["helpText"]
        for pattern in parameter.get("regexes", []):
            re.compile(pattern)
    required = {p["name"] for p in metadata["parameters"] if not p.get("isOptional")}
    assert required == {"config", "output"}


def test_launcher_translates_parameters_and_passes_beam_options() -> None:
    argv = [
        "--config=gs://b/c.json",
        "--output=gs://b/out",
        "--format=csv",
        "--rows=",
        "--overwrite=true",
        "--project=p",
        "--region",
        "europe-west1",
        "--sdk_container_image=img",
    ]
    args = _launcher().translate(argv)
    assert args[:2] == ["generate", "gs://b/c.json"]
    assert args[args.index("--out") + 1] == "gs://b/out"
    assert "--overwrite" in args and "--no-wait" in args and "--rows" not in args
    assert {
        "--project=p",
        "--region=europe-west1",
        "--sdk_container_image=img",
        "--runner=DataflowRunner",
    } <= set(args)


def test_launcher_output_parses_with_the_cli_parser() -> None:
    from synthbeam.pipeline.cli import build_parser

    args = _launcher().translate(["--config=gs://b/c.json", "--output=gs://b/o", "--seed=4", "--num_shards=8"])
    namespace, extras = build_parser().parse_known_args(args)
    assert (namespace.command, namespace.config, namespace.out, namespace.seed) == (
        "generate",
        "gs://b/c.json",
        "gs://b/o",
        4,
    )
    assert namespace.num_shards == 8 and namespace.no_wait
    assert extras == ["--runner=DataflowRunner"]


def test_dockerfile_runs_the_launcher_file() -> None:
    text = (FLEX / "Dockerfile").read_text()
    assert "FLEX_TEMPLATE_PYTHON_PY_FILE=/template/templates/flex/launch.py" in text
    assert "apache/beam_python3.11_sdk" in text
