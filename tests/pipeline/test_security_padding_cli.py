"""``security.pad_to`` end to end: generate pads, decrypt restores values and types (issue #12 item 10)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from tests.conftest import sealed_lengths


def test_pad_to_in_the_config_reaches_the_cells_and_decrypt_restores_them(cli, write_config, tmp_path) -> None:
    assert cli("keygen", tmp_path / "k.key").code == 0
    config = {
        "seed": 5,
        "security": {"enable_encryption": True, "key_file": "k.key", "pad_to": 64},
        "tables": [{"table_name": "p", "rows": 200, "columns": [
            {"name": "id", "type": "int", "constraint": ["PK"]},
            {"name": "name", "type": "str", "rule": "name", "sensitivity": "PII"},
            {"name": "n", "type": "int", "sensitivity": "SENSITIVE"},
        ]}],
    }  # fmt: skip
    out, plain = tmp_path / "out", tmp_path / "plain"
    assert cli("generate", write_config(config), "--out", out, "--no-progress").code == 0
    written = pq.read_table(sorted((out / "p").glob("*.parquet")))
    assert len(sealed_lengths(written.column("name").combine_chunks())) == 1
    assert len(sealed_lengths(written.column("n").combine_chunks())) == 1
    run = cli("decrypt", out, "--key-file", tmp_path / "k.key", "--out", plain)
    assert run.code == 0, run.err
    restored = pq.read_table(sorted((plain / "p").glob("*.parquet")))
    assert restored.schema.field("n").type == pa.int64()
    assert len(set(map(len, restored.column("name").to_pylist()))) > 5  # real names, of many lengths
