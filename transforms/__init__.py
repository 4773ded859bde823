"""The Beam layer: orchestration only, every value comes from ``synthbeam.rules``.

- :mod:`.chunks`: a table's rows as chunk descriptors (the unit of work and memory), carried as a
  ``TableChunks`` rule that the emitting worker expands.
- :mod:`.generate`: ``GenerateTable``/``GenerateChunks``: chunks -> ``(table, chunk_id, RecordBatch)``.
- :mod:`.sinks`: ``ParquetSink``, ``AvroSink``, ``CsvSink`` (``FileBasedSink`` subclasses of record batches);
  :mod:`.avro_container` encodes Avro column-wise.
- :mod:`.write`: ``WriteTables`` (every table in one generation stage, as ``build`` uses it) and
  ``WriteTable`` (one table): chunks generated into shard files through a sink.
- :mod:`.dedup`: ``DedupPlan``: the dedup rounds as keyed shuffles; its replacements reach generation in
  blocks of rows, through a multimap side input read key by key.
- :mod:`.output`: staging, the all-or-nothing ``CommitOutput`` step, ``_report.json``.
- :mod:`.metrics`: Beam counters in the ``synthbeam`` namespace and the in-process progress tally.
"""
