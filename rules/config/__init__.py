"""The config document: from text to one validated, merged dict with every problem placed.

- ``loader``: reads the file, merges environments, validates, reports problems with places.
- ``environments``: layered run settings (file, environment, command line).
- ``legacy``: older config shapes rewritten into the contract's form.
- ``schema``: the JSON Schema (made from the rule classes' declarations) and its validator.
- ``catalog``: imports every built-in rule family so that it registers.
"""
