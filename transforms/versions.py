"""The launcher's versions of the packages that decide values, checked on every worker.

Values are a function of (seed, table, column, row index) *and* of the code that
computes them: synthbeam itself, numpy's and pyarrow's kernels, DuckDB (expr columns), Faker's data and
Beam's coders. A worker image with another pyarrow or numpy than the launcher
(a Dataflow worker that resolved ``setup.py``'s ranges on its own, a Flink task
manager with an older install) would write other rows, or fail half-way, with no
word. So the launcher records its versions in every generating step, and each
worker process compares them once, before its first value, and refuses to run
with a one-line message naming the package and both versions.

``requirements.lock`` (local venvs) and ``requirements-gcp.lock`` (the Flex
Template image) are how the same versions reach both sides; this check is what
tells you when they did not.
"""

from __future__ import annotations

from importlib import metadata

__all__ = ["VALUE_PACKAGES", "WorkerVersionError", "launcher_versions", "verify_worker"]

VALUE_PACKAGES = ("synthbeam", "apache-beam", "numpy", "pyarrow", "faker", "duckdb")

# Pins already verified in this process: each worker process compares once, not per chunk.
_VERIFIED: set[tuple[tuple[str, str], ...]] = set()


class WorkerVersionError(RuntimeError):
    """A worker holds another version of a value-deciding package than the launcher did."""


def _installed(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def launcher_versions() -> tuple[tuple[str, str], ...]:
    """(package, version) of every value-deciding package here, to carry to the workers."""
    return tuple((package, _installed(package)) for package in VALUE_PACKAGES)


def verify_worker(pin: tuple[tuple[str, str], ...]) -> None:
    """Raise :class:`WorkerVersionError` unless this process has the versions in ``pin``."""
    if pin in _VERIFIED:
        return
    differing = [(package, wanted, _installed(package)) for package, wanted in pin if _installed(package) != wanted]
    if differing:
        listed = ", ".join(f"{package} {here} (launcher {wanted})" for package, wanted, here in differing)
        raise WorkerVersionError(
            f"this worker runs {listed}: values would differ from the launcher's; give the workers the "
            "locked versions (templates/flex/README.md, 'The same versions on every worker')"
        )
    _VERIFIED.add(pin)
