"""Lorem text written with one take: the same text as joining the planned words."""

from __future__ import annotations

import numpy as np
import pytest

from synthbeam.rules.core.seeding import Stream
from synthbeam.rules.generators.faker import lorem as faker_lorem
from synthbeam.rules.generators.faker.compile import compiler_for


def _sentences(source, plan) -> list[str]:
    words = source.table.to_pylist()
    sentences, position = [], 0
    for count in plan.counts.tolist():
        tokens = plan.tokens[position : position + count].tolist()
        sentences.append(source.connector.join(words[t] for t in tokens) + source.punctuation)
        position += count
    return sentences


@pytest.mark.parametrize("locale", ["en_US", "ja_JP"])
def test_sentences_and_paragraphs_equal_joined_words(locale: str) -> None:
    node = compiler_for(locale).node("paragraph")
    assert isinstance(node, faker_lorem.Paragraph)
    source = node.source
    ids = Stream.root("ids").bits(np.arange(2000, dtype=np.uint64))
    sentences = source.sentence_plan(ids, Stream.root("s"), 6, True)
    assert source.write(sentences).to_pylist() == _sentences(source, sentences)
    paragraphs = source.paragraph_plan(ids, Stream.root("p"), 3, True)
    flat, expected, position = _sentences(source, paragraphs.child), [], 0
    for count in paragraphs.counts.tolist():
        expected.append(source.connector.join(flat[position : position + count]))
        position += count
    written = source.write(paragraphs).to_pylist()
    assert written == expected
    assert [len(p) for p in written] == paragraphs.lengths.tolist()
