"""``synthbeam import``: a config from an existing schema (SQL DDL, a live database, Parquet files).

Each source reads into the neutral ``model.Schema``; ``build`` turns that into a config, guessing
rules from names and types (``infer``) and listing every guess as a note. See docs/import.md.
"""
