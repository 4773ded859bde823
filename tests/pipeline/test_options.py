"""Runner choice and option mapping: the local default never touches Prism; performance maps onto Beam."""

from __future__ import annotations

import pytest
from apache_beam.options.pipeline_options import DirectOptions, FlinkRunnerOptions, WorkerOptions
from apache_beam.portability import python_urns

from synthbeam.pipeline.options import FORKED_WORKER_URN, LocalRunner, OptionsError, beam_setup, local_runner


def _plan(make_plan, **performance):
    config = {"tables": [{"table_name": "t", "rows": 10, "columns": [{"name": "id", "type": "int"}]}]}
    if performance:
        config["performance"] = performance
    return make_plan(config)


@pytest.mark.parametrize("runner", [None, "DirectRunner", "direct", "SwitchingDirectRunner", "FnApiRunner"])
def test_direct_names_run_on_the_local_fnapi_runner(make_plan, runner) -> None:
    args = [f"--runner={runner}"] if runner else []
    setup = beam_setup(args, _plan(make_plan))
    assert isinstance(setup.runner, LocalRunner)
    assert setup.local and setup.workers == 1 and setup.running_mode == "in_memory"


def test_max_workers_maps_to_direct_num_workers(make_plan) -> None:
    setup = beam_setup([], _plan(make_plan, max_workers=3))
    direct = setup.options.view_as(DirectOptions)
    assert (direct.direct_num_workers, direct.direct_running_mode) == (3, "multi_threading")
    assert setup.workers == 3


def test_command_line_beats_max_workers(make_plan) -> None:
    setup = beam_setup(
        ["--direct_num_workers=2", "--direct_running_mode=multi_processing"], _plan(make_plan, max_workers=8)
    )
    direct = setup.options.view_as(DirectOptions)
    assert (direct.direct_num_workers, direct.direct_running_mode) == (2, "multi_processing")


def test_max_workers_maps_to_dataflow_and_flink(make_plan) -> None:
    dataflow = beam_setup(["--runner=DataflowRunner"], _plan(make_plan, max_workers=7))
    assert dataflow.options.view_as(WorkerOptions).max_num_workers == 7 and not dataflow.local
    explicit = beam_setup(["--runner=DataflowRunner", "--max_num_workers=2"], _plan(make_plan, max_workers=7))
    assert explicit.options.view_as(WorkerOptions).max_num_workers == 2
    flink = beam_setup(["--runner=FlinkRunner", "--flink_master=localhost:8081"], _plan(make_plan, max_workers=5))
    assert flink.options.view_as(FlinkRunnerOptions).parallelism == 5


def test_unknown_options_are_rejected(make_plan) -> None:
    with pytest.raises(OptionsError, match="--no_such_option"):
        beam_setup(["--no_such_option=1"], _plan(make_plan))
    with pytest.raises(OptionsError, match="invalid choice"):
        beam_setup(["--direct_running_mode=sideways"], _plan(make_plan))


def test_prism_is_never_tried(cli, config_path, tmp_path, monkeypatch) -> None:
    from apache_beam.runners.portability import prism_runner

    def no_prism(*args, **kwargs):
        raise AssertionError("Prism must not be used: it downloads a binary")

    monkeypatch.setattr(prism_runner.PrismRunner, "run_pipeline", no_prism)
    run = cli("generate", config_path, "--out", tmp_path / "out", "--runner=DirectRunner")
    assert run.code == 0, run.err


def test_subprocess_workers_start_quietly(monkeypatch) -> None:
    from apache_beam.portability.api import beam_runner_api_pb2
    from apache_beam.runners.portability.fn_api_runner import fn_runner

    proto = beam_runner_api_pb2.Pipeline()
    environment = proto.components.environments["env"]
    environment.urn = python_urns.SUBPROCESS_SDK
    environment.payload = b"/usr/bin/python3 -m apache_beam.runners.worker.sdk_worker_main"
    calls = []
    monkeypatch.setattr(fn_runner.FnApiRunner, "run_via_runner_api", lambda self, p, o: calls.append(p))
    local_runner().run_via_runner_api(proto, None)
    environment = calls[0].components.environments["env"]
    # Our worker handler: a forked standby worker, else this quiet command as a subprocess.
    assert environment.urn == FORKED_WORKER_URN
    assert environment.payload.endswith(b"-m synthbeam.pipeline.worker")


def test_the_runner_description_says_when_workers_are_forked(make_plan) -> None:
    setup = beam_setup(["--direct_running_mode=multi_processing", "--direct_num_workers=2"], _plan(make_plan))
    assert setup.describe() == "DirectRunner (FnApiRunner, multi_processing, 2 worker(s))"
    setup.forked_workers = 2
    assert setup.describe() == "DirectRunner (FnApiRunner, multi_processing, 2 worker(s), forked)"


def test_only_multi_process_runs_prestart_workers(make_plan) -> None:
    setup = beam_setup(["--direct_running_mode=multi_threading", "--direct_num_workers=2"], _plan(make_plan))
    assert setup.runner.prestart_workers(setup.options) == 0
