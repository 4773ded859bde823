"""The Faker method compiler on small, hand-written providers: what it follows and what it refuses."""

from __future__ import annotations

import collections
import re
from collections import OrderedDict

import numpy as np
import pytest
from faker import Generator
from faker.providers import BaseProvider
from faker.utils.decorators import lowercase

from synthbeam.rules.core.seeding import Stream
from synthbeam.rules.generators.faker import rules as faker_rules  # noqa: F401  (registers the recipes)
from synthbeam.rules.generators.faker.compile import MethodCompiler, compiler_for
from synthbeam.rules.generators.faker.pool import faker_generator
from synthbeam.rules.generators.faker.symbolic import Dist
from synthbeam.rules.generators.text.vector import Node, NotVectorisable


class Sample(BaseProvider):
    codes = ("123", "456", "789")
    weighted = OrderedDict((("rare", 0.1), ("common", 0.9)))  # noqa: RUF012  (Faker's provider style)
    formats = ("{{code}}-{{code}}", "{{word}}!")
    words = ("alpha", "beta")
    optional_data = ("x",)

    def code(self) -> str:
        return self.random_element(self.codes)

    def word(self) -> str:
        return self.random_element(self.words)

    def split_code(self) -> str:
        code: str = self.random_element(self.codes)
        return self.numerify(f"{code[0]} {code[1:]}")

    def department(self) -> str:
        department = self.random_element(("2A", "75", "971"))
        if department in ("2A", "2B"):
            department = "20"
        return f"{department}{self.random_number(digits=5 - len(department), fix_len=True)}"

    def pick_weighted(self) -> str:
        return self.random_element(self.weighted)

    def formatted(self) -> str:
        pattern: str = self.random_element(self.formats)
        return self.generator.parse(pattern)

    def optional(self) -> str:
        if hasattr(self, "optional_data"):
            return self.random_element(self.optional_data)
        return self.code()

    def missing(self) -> str:
        if hasattr(self, "no_such_data"):
            return self.random_element(self.no_such_data)  # type: ignore[attr-defined]
        return self.word()

    def padded(self) -> str:
        return "%05d-%s" % (self.generator.random.randint(7, 99), self.word())  # noqa: UP031  (under test)

    def fstring(self) -> str:
        return f"{self.random_int(1, 12):02d}/{self.random_element(self.words)}"

    def placeholders(self) -> str:
        return self.bothify("??-##-%$")

    @lowercase
    def shouting(self) -> str:
        return self.random_element(("ABC", "Def"))

    def looping(self) -> str:
        text = ""
        for _ in range(3):
            text += self.word()
        return text

    def reused(self) -> str:
        digits = self.numerify("##")
        return digits + digits

    def uses_rng(self) -> str:
        return str(self.generator.random.random())

    def recursive(self) -> str:
        return self.recursive()



def compiler(weighting: bool = True) -> MethodCompiler:
    generator = Generator()
    generator.add_provider(Sample)
    generator.providers[0].__use_weighting__ = weighting  # as Faker's Factory sets it
    return MethodCompiler(generator, "sample")


def values(node: Node, count: int = 5000) -> list[str]:
    return node.generate(np.arange(count, dtype=np.uint64), Stream.root("c")).to_pylist()


def test_element_lists_become_distributions() -> None:
    value = compiler().value("code")
    assert isinstance(value, Dist) and set(value.values) == {"123", "456", "789"}


def test_one_draw_used_twice_stays_one_draw() -> None:
    produced = set(values(compiler().node("split_code")))
    assert produced == {"1 23", "4 56", "7 89"}


def test_conditions_on_a_draw_split_the_paths() -> None:
    produced = values(compiler().node("department"))
    assert all(re.fullmatch(r"20[1-9]\d\d|75[1-9]\d\d|971[1-9]\d", v) for v in produced)
    starts = collections.Counter(v[:2] for v in produced)
    assert abs(starts["20"] / len(produced) - 1 / 3) < 0.03 and not any(v.startswith("2A") for v in produced)


def test_separate_calls_are_independent() -> None:
    produced = values(compiler().node("formatted"), 20_000)
    pairs = {v for v in produced if "-" in v}
    assert len(pairs) == 9  # every code with every code
    assert {v for v in produced if "!" in v} == {"alpha!", "beta!"}


def test_weights_are_honoured_as_faker_does() -> None:
    produced = collections.Counter(values(compiler().node("pick_weighted"), 20_000))
    assert abs(produced["common"] / 20_000 - 0.9) < 0.01
    unweighted = collections.Counter(values(compiler(weighting=False).node("pick_weighted"), 20_000))
    assert abs(unweighted["common"] / 20_000 - 0.5) < 0.02


def test_optional_provider_data_is_known_when_compiling() -> None:
    assert set(values(compiler().node("optional"))) == {"x"}
    assert set(values(compiler().node("missing"))) == {"alpha", "beta"}


def test_printf_and_fstrings_format_integers() -> None:
    padded = values(compiler().node("padded"))
    assert all(re.fullmatch(r"000(0[7-9]|[1-9]\d)-(alpha|beta)", v) for v in padded)
    months = {v[:2] for v in values(compiler().node("fstring"))}
    assert months == {f"{m:02d}" for m in range(1, 13)}


def test_placeholders_follow_faker() -> None:
    produced = values(compiler().node("placeholders"), 20_000)
    assert all(re.fullmatch(r"[A-Za-z]{2}-\d\d-[1-9][2-9]", v) for v in produced)
    assert {v[0] for v in produced} == set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def test_text_decorators_apply() -> None:
    assert set(values(compiler().node("shouting"))) == {"abc", "def"}


@pytest.mark.parametrize("method", ["looping", "reused", "uses_rng", "recursive"])
def test_code_it_cannot_follow_is_refused(method: str) -> None:
    with pytest.raises(NotVectorisable):
        compiler().node(method)


def test_tokens_without_a_recipe_come_from_a_pool() -> None:
    # en_US catch_phrase joins a list comprehension: no recipe, so the token is pooled.
    node = compiler_for("en_US").parse("<{{catch_phrase}}>")
    assert node.pooled() == ("catch_phrase",)
    groups = faker_generator("en_US").catch_phrase.__self__.catch_phrase_words
    phrase = re.compile("<" + " ".join("(?:" + "|".join(map(re.escape, g)) + ")" for g in groups) + ">")
    produced = values(node, 2000)
    assert all(phrase.fullmatch(v) for v in produced)
    assert produced == values(node, 2000)
