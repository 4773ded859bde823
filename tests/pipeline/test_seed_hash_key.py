"""Hashing keyed by the seed (issue #12 item 9): said on generate and in the report; refused in environments."""

from __future__ import annotations

import copy

from synthbeam.rules.security.policy import SEED_HASH_KEY_WARNING
from tests.pipeline.conftest import read_parquet_table, read_report

CONFIG = {
    "seed": 3,
    "security": {"enable_data_masking": True},
    "tables": [
        {
            "table_name": "people",
            "rows": 20,
            "columns": [
                {"name": "id", "type": "int", "constraint": ["PK"]},
                {"name": "tax_id", "type": "str", "rule": "ssn", "sensitivity": "SENSITIVE"},
            ],
        }
    ],
}


def test_generate_says_the_hash_key_comes_from_the_seed(cli, write_config, tmp_path) -> None:
    out = tmp_path / "out"
    run = cli("generate", write_config(CONFIG), "--out", out, "--no-progress")
    assert run.code == 0, run.err
    # Once, placed like every plan warning (the run says what validate says).
    assert run.err.splitlines() == [f"warning: security: {SEED_HASH_KEY_WARNING}"]
    assert f"security: {SEED_HASH_KEY_WARNING}" in read_report(out)["notes"]
    assert read_report(out)["security"]["hash_key"] == "seed"
    assert all(v.startswith("h:") for v in read_parquet_table(out, "people").column("tax_id").to_pylist())


def test_an_environment_that_enables_masking_requires_a_key(cli, write_config, tmp_path) -> None:
    config = copy.deepcopy(CONFIG)
    config["security"] = {"enable_data_masking": False}
    config["environments"] = {"prod": {"security": {"enable_data_masking": True}}}
    path = write_config(config)
    out = tmp_path / "out"
    run = cli("generate", path, "--out", out, "--environment", "prod")
    assert (run.code, run.err) == (
        1,
        f"error: {path}: security: environment 'prod' enables masking and a column is hashed, but there is no key: "
        "the hashes would use a key derived from the seed, which _report.json records. Set security.key_env or "
        "security.key_file in that environment\n",
    )
    assert not out.exists()
    # With the key set in that environment, the run hashes with it and says nothing about the seed.
    assert cli("keygen", tmp_path / "k.key").code == 0
    config["environments"]["prod"]["security"]["key_file"] = "k.key"
    run = cli("generate", write_config(config), "--out", out, "--environment", "prod", "--no-progress")
    assert run.code == 0, run.err
    assert SEED_HASH_KEY_WARNING not in run.err
    assert read_report(out)["security"]["hash_key"] == "encryption key"
