"""``import synthbeam``: load, tables and generate, checked against what the pipeline writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

import synthbeam
from synthbeam.pipeline.keygen import keygen
from tests.pipeline.conftest import read_parquet_table

# "name" draws from Faker's pool: 2,000 rows give ~25 collisions that only the dedup pass removes.
CONFIG = {
    "seed": 5,
    "as_of": "2026-01-01",
    "security": {"enable_data_masking": True, "enable_encryption": True, "key_file": "api.key"},
    "tables": [
        {
            "table_name": "people",
            "rows": 2000,
            "columns": [
                {"name": "person_id", "type": "int", "constraint": ["PK"]},
                {"name": "full_name", "type": "str", "rule": "name", "length": 20, "constraint": ["unique"]},
                {"name": "email", "type": "email", "sensitivity": "PII"},
                {"name": "iban", "type": "str", "rule": "iban", "sensitivity": "SENSITIVE"},
                {"name": "city", "type": "str", "rule": "city", "nullable": True, "null_probability": 0.2},
            ],
        },
        {
            "table_name": "visits",
            "rows": 500,
            "columns": [
                {"name": "visit_id", "type": "int", "constraint": ["PK"]},
                {"name": "person_id", "type": "int"},
                {
                    "name": "day",
                    "type": "date",
                    "rule": {"type": "date_range", "start": "2025-01-01", "end": "2025-12-31"},
                },
            ],
            "foreign_keys": [{"child_column": "person_id", "parent_table": "people", "parent_column": "person_id"}],
        },
    ],
}


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    keygen(tmp_path / "api.key")
    (tmp_path / "people.json").write_text(json.dumps(CONFIG), encoding="utf-8")
    return tmp_path


def _by_key(table: pa.Table, key: str) -> pa.Table:
    return table.sort_by(key)


def test_tables_are_the_rows_generate_writes_deduplicated_masked_and_encrypted(config_dir: Path) -> None:
    plan = synthbeam.load(config_dir / "people.json")
    from synthbeam.rules.engine.batch import generate_batch

    first_draws = generate_batch(plan, "people", 0, 2000).column("full_name").to_pylist()
    assert len(set(first_draws)) < 2000  # cut names collide in the raw engine: the API must not

    tables = synthbeam.tables(plan)
    people = tables["people"]
    assert people.num_rows == 2000 and len(set(people.column("full_name").to_pylist())) == 2000
    assert all(value.startswith("enc:v1:") for value in people.column("email").to_pylist())
    assert plan.replacements == {}  # the caller's plan is untouched

    report = synthbeam.generate(plan, out=config_dir / "out", num_shards=3)
    assert report.rows == {"people": 2000, "visits": 500}
    assert isinstance(report, synthbeam.Report) and report["seed"] == 5
    # The report names files by pattern and count; files() spells them out, exactly the files on disk.
    assert report.files("people") == sorted(str(p) for p in (config_dir / "out" / "people").iterdir())
    assert len(report.files("people")) == 3
    for name, key in (("people", "person_id"), ("visits", "visit_id")):
        written = _by_key(read_parquet_table(config_dir / "out", name), key)
        assert written.equals(_by_key(tables[name], key)), name

    first = synthbeam.tables(plan, rows=10, names=["people"])
    assert list(first) == ["people"] and first["people"].equals(people.slice(0, 10))


def test_load_takes_a_path_json_text_or_a_dict_with_overrides(config_dir: Path) -> None:
    config = {**CONFIG, "security": {}}
    from_dict = synthbeam.load(config, rows=7, seed=9, scale=2)
    from_text = synthbeam.load(json.dumps(config), rows=7, seed=9, scale=2)
    (config_dir / "plain.json").write_text(json.dumps(config), encoding="utf-8")
    from_path = synthbeam.load(str(config_dir / "plain.json"), rows=7, seed=9, scale=2)
    assert from_dict.seed == 9 and from_dict.table("people").rows == 4000
    expected = synthbeam.tables(from_path, rows=50)
    for plan in (from_dict, from_text):
        got = synthbeam.tables(plan, rows=50)
        assert all(got[name].equals(expected[name]) for name in expected)


def test_load_raises_one_error_with_every_issue_and_its_place() -> None:
    config = {
        "tables": [
            {
                "table_name": "t",
                "rows": 3,
                "columns": [
                    {"name": "id", "type": "int", "rule": "no_such_method"},
                    {"name": "x", "type": "int", "rule": {"type": "range", "min": 5, "max": 1}},
                ],
            }
        ]
    }
    with pytest.raises(synthbeam.ConfigError) as caught:
        synthbeam.load(config)
    places = [issue.place for issue in caught.value.issues]
    assert places == ["t.columns[0] (id)", "t.columns[1] (x)"]
    assert "min 5 > max 1" in caught.value.issues[1].message


def test_tables_rejects_unknown_names_and_negative_rows() -> None:
    plan = synthbeam.load({**CONFIG, "security": {}})
    with pytest.raises(KeyError, match="no table 'nope'"):
        synthbeam.tables(plan, names=["nope"])
    with pytest.raises(ValueError, match="rows must be >= 0"):
        synthbeam.tables(plan, rows=-1)


def test_generate_refuses_an_existing_output_in_one_line(config_dir: Path) -> None:
    (config_dir / "out").mkdir()
    (config_dir / "out" / "keep.txt").write_text("x")
    plan = synthbeam.load({**CONFIG, "security": {}}, rows=5)
    with pytest.raises(synthbeam.UserError, match="not empty"):
        synthbeam.generate(plan, out=config_dir / "out")
    assert (config_dir / "out" / "keep.txt").read_text() == "x"


def test_import_synthbeam_from_the_installed_package_is_light(tmp_path: Path) -> None:
    code = (
        "import sys, synthbeam\n"
        "assert 'pyarrow' not in sys.modules and 'apache_beam' not in sys.modules\n"
        "column = {'name': 'id', 'type': 'int', 'constraint': ['PK']}\n"
        "plan = synthbeam.load({'tables': [{'table_name': 't', 'rows': 4, 'columns': [column]}]})\n"
        "print(synthbeam.tables(plan)['t'].column('id').to_pylist(), 'apache_beam' in sys.modules)\n"
    )
    # Run from elsewhere so the checkout is not on sys.path: the installed (editable) package answers.
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert done.stdout.split("]")[0] == "[1, 2, 3, 4" and done.stdout.strip().endswith("False")
    version = subprocess.run(
        [sys.executable, "-m", "synthbeam.pipeline", "--version"], cwd=tmp_path, capture_output=True, text=True
    )
    assert version.returncode == 0 and version.stdout.startswith("synthbeam ")
    guarded = subprocess.run(
        [sys.executable, "-c", "import synthbeam.pipeline.api"], cwd=tmp_path, capture_output=True, text=True
    )
    assert guarded.returncode != 0 and "import synthbeam, not synthbeam.pipeline.api" in guarded.stderr
