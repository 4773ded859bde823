"""The user's door: the ``synthbeam`` CLI and what runs behind it.

- :mod:`.cli`: argparse commands (``generate``, ``validate``, ``preview``, ``plan``, ``schema``, ...).
- :mod:`.config`: config location + overrides -> compiled plan (local files or ``gs://``).
- :mod:`.options`: Beam pipeline options, runner choice (the offline local FnApiRunner), performance mapping.
- :mod:`.build`: every table of a plan as branches of one pipeline.
- :mod:`.run`: ``generate``: checks, the run, the report, cleanup on failure.
- :mod:`.report`, :mod:`.progress`, :mod:`.summary`, :mod:`.textview`: what the user reads.
- :mod:`.report_html`, :mod:`.erd`: ``_report.html`` and the ER diagram (``plan --erd``).
- :mod:`.python_api`: ``import synthbeam`` (load, tables, generate); the package itself is ``api/``.
- :mod:`.worker`: the quiet entry point of multi-process DirectRunner workers.
"""
