"""A background thread's exception (Beam's message reader on Ctrl-C) never prints over the CLI's one line."""

from __future__ import annotations

import threading

import pytest

from synthbeam.pipeline.cli import _runtime


def _fail_in_a_thread() -> None:
    def boom() -> None:
        raise ValueError("generator already executing")

    thread = threading.Thread(target=boom, name="wait_until_finish_read")
    thread.start()
    thread.join()


def test_a_thread_exception_is_not_printed_without_debug(capsys: pytest.CaptureFixture[str]) -> None:
    before = threading.excepthook
    with _runtime(False):
        _fail_in_a_thread()
    assert capsys.readouterr().err == ""
    assert threading.excepthook is before  # restored after the command


def test_with_debug_the_thread_exception_is_shown(capsys: pytest.CaptureFixture[str]) -> None:
    with _runtime(True):
        _fail_in_a_thread()
    err = capsys.readouterr().err
    assert "exception in wait_until_finish_read" in err and "ValueError: generator already executing" in err
