"""Terminal output pieces: aligned tables, readable cells, the run monitor."""

from __future__ import annotations

import datetime as dt
import io

from synthbeam.pipeline.progress import RunMonitor, process_tree_rss
from synthbeam.pipeline.textview import format_bytes, format_cell, render_table, truncate
from synthbeam.transforms.metrics import LOCAL_PROGRESS


def test_format_cell_reads_naturally() -> None:
    assert format_cell(None) == "NULL"
    assert format_cell(True) == "true"
    assert format_cell(2.5) == "2.5"
    assert format_cell(dt.date(2024, 1, 2)) == "2024-01-02"
    assert format_cell(dt.datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02 03:04:05"
    assert format_cell(dt.datetime(2024, 1, 2, 3, 4, 5, 7)) == "2024-01-02 03:04:05.000007"
    assert format_cell(dt.time(6, 30)) == "06:30:00"
    assert format_cell("two\nlines") == "two⏎lines"


def test_text_with_line_breaks_stays_text() -> None:
    # issue 14 item 16: a de_DE address cell holding a newline was shown with Python escapes.
    assert format_cell("Am Markt 3\n93449 Waldmünchen") == "Am Markt 3⏎93449 Waldmünchen"
    assert format_cell("a\r\nb\tc\x00d\u2028e") == "a⏎b␉c␀d⏎e"
    assert format_cell("Zoë, 東京") == "Zoë, 東京"


def test_preview_shows_a_de_address_as_text(cli, write_config) -> None:
    config = {
        "seed": 1,
        "locale": "de_DE",
        "tables": [{"table_name": "t", "rows": 10, "columns": [{"name": "address", "type": "str", "rule": "address"}]}],
    }
    from synthbeam.pipeline.config import load_plan
    from synthbeam.rules.engine.batch import generate_batch

    path = write_config(config)
    plan, _ = load_plan(str(path))
    addresses = generate_batch(plan, "t", 0, 10).column(0).to_pylist()
    assert any("\n" in a for a in addresses) and any(ord(ch) > 127 for a in addresses for ch in a)
    run = cli("preview", path, "--limit", "10")
    assert run.code == 0, run.err
    assert "\\x" not in run.out and "\\n" not in run.out
    for address in addresses:  # preview cuts cells at 40 characters
        assert truncate(address.replace("\n", "⏎"), 40) in run.out


def test_render_table_aligns_and_truncates() -> None:
    lines = render_table(["id", "name"], [[1, "a"], [100, "x" * 50]], max_cell=10)
    assert lines[0] == " id  name"  # numeric columns align right, header included
    assert lines[2] == "  1  a"
    assert lines[3] == "100  xxxxxxxxx…"
    assert truncate("abcdef", 4) == "abc…"


def test_render_table_splits_wide_tables_into_blocks() -> None:
    headers = [f"column_{i}" for i in range(12)]
    lines = render_table(headers, [list(range(12))], max_width=40)
    assert max(len(line) for line in lines) <= 40
    assert "" in lines  # a blank line between blocks
    assert all(h in "\n".join(lines) for h in headers)


def test_format_bytes() -> None:
    assert format_bytes(512) == "512 B"
    assert format_bytes(2048) == "2.0 KB"
    assert format_bytes(3 * 2**30) == "3.0 GB"


def test_monitor_samples_memory_and_draws_progress() -> None:
    stream = io.StringIO()
    monitor = RunMonitor(
        "display-test",
        {"a": 100, "bb": 50},
        live=True,
        stream=stream,
        draw_interval=0.0,
        sample_interval=0.01,
    )
    with monitor:
        LOCAL_PROGRESS.add("display-test", "a", 100)
        LOCAL_PROGRESS.add("display-test", "bb", 20)
        lines = monitor.lines()
    assert "100 / 100 rows" in lines[0] and "20 / 50 rows" in lines[1]
    assert lines[0].startswith("a  [####################]")
    assert monitor.peak_rss >= monitor.peak_rss_main > 10 * 2**20
    assert monitor.wall_seconds > 0
    assert "\x1b[2K" in stream.getvalue()
    assert LOCAL_PROGRESS.snapshot("display-test") == {}  # forgotten after the run


def test_process_tree_rss_counts_this_process() -> None:
    total, own = process_tree_rss()
    assert total >= own > 0


def test_process_tree_rss_counts_children_it_lists_or_is_given() -> None:
    import subprocess
    import sys

    import psutil

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        listed = psutil.Process(child.pid)
        child_rss = listed.memory_info().rss
        total, own = process_tree_rss()
        assert total >= own + child_rss // 2
        alone, own_again = process_tree_rss([])
        assert alone == own_again
        given, _ = process_tree_rss([listed])
        assert given >= own_again + child_rss // 2
    finally:
        child.kill()
        child.wait()


def test_without_a_terminal_the_monitor_logs_plain_progress_lines_with_an_eta() -> None:
    import time

    stream = io.StringIO()
    monitor = RunMonitor("log-test", {"a": 1000, "b": 1000}, live=False, stream=stream, sample_interval=0.01,
                         log_every=0.2)
    with monitor:
        time.sleep(0.25)  # nothing generated yet: elapsed time only
        LOCAL_PROGRESS.add("log-test", "a", 100)
        time.sleep(0.1)
        LOCAL_PROGRESS.add("log-test", "a", 400)
        time.sleep(0.35)
    lines = stream.getvalue().splitlines()
    assert "\x1b" not in stream.getvalue()  # no cursor movement in a log
    assert lines[0].startswith("progress: generating 2 table(s), ")
    last = lines[-1]
    assert last.startswith("progress: 500 / 2,000 rows (25%), ") and "rows/s, ETA " in last and "ETA ?" not in last


def test_terminal_bars_show_the_time_left() -> None:
    monitor = RunMonitor("eta-test", {"a": 1000}, live=True, stream=io.StringIO(), sample_interval=0.01)
    with monitor:
        LOCAL_PROGRESS.add("eta-test", "a", 100)
        monitor.lines()
        import time

        time.sleep(0.05)
        LOCAL_PROGRESS.add("eta-test", "a", 400)
        line = monitor.lines()[0]
    assert "500 / 1,000 rows" in line and "ETA " in line and "ETA ?" not in line
