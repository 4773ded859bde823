"""Config problems, collected rather than raised one at a time.

Validation gathers every problem it finds into an :class:`Issues` list so the
user sees them all at once; each names its place in the config
(``orders.columns[3] (amount)``) and what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Issue:
    place: str
    message: str
    severity: str = "error"  # "error" | "warning" | "correction"

    def __str__(self) -> str:
        return f"{self.place}: {self.message}" if self.place else self.message


@dataclass
class Issues:
    """An ordered collection of errors, warnings and applied corrections."""

    items: list[Issue] = field(default_factory=list)

    def error(self, place: str, message: str) -> None:
        self.items.append(Issue(place, message, "error"))

    def warning(self, place: str, message: str) -> None:
        self.items.append(Issue(place, message, "warning"))

    def correction(self, place: str, message: str) -> None:
        self.items.append(Issue(place, message, "correction"))

    def extend(self, other: Issues) -> None:
        self.items.extend(other.items)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.items if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.items if i.severity == "warning"]

    @property
    def corrections(self) -> list[Issue]:
        return [i for i in self.items if i.severity == "correction"]

    def __bool__(self) -> bool:
        return bool(self.errors)


class ConfigError(Exception):
    """A config that cannot be used; carries every problem found."""

    def __init__(self, issues: list[Issue], source: str = "") -> None:
        self.issues = issues
        self.source = source
        first = str(issues[0]) if issues else "invalid config"
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        prefix = f"{source}: " if source else ""
        super().__init__(f"{prefix}{first}{more}")


class GenerationError(Exception):
    """A failure while producing rows that the config could not have predicted."""
