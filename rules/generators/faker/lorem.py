"""Lorem text column-wise: ``word``, ``sentence``, ``paragraph`` and ``text`` like Faker's.

Words come from the locale's lorem provider (its ``word_list``, connector and
sentence punctuation: ``ja_JP`` joins words with nothing and ends with ``。``).
Lengths follow Faker: a sentence has ``nb_words`` words varied by 60-140 %
(at least one), its first word title-cased; a paragraph has ``nb_sentences``
sentences varied the same way; ``text`` appends paragraphs (or sentences, or
words, for short limits) until ``max_nb_chars`` is reached, drops the unit that
crossed it, and starts again when nothing is left.

Each unit (text, paragraph, sentence) gets a 64-bit id drawn from its parent's
id and position, and everything about the unit is drawn from its id, so every
row stays a pure function of (stream key, row index). Lengths are computed
from word lengths before any string is built; sentences and paragraphs are
written with one Arrow take of words that carry their own connector or
punctuation, so each unit is a contiguous run of the taken text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthbeam.rules.core.seeding import Stream, mix64
from synthbeam.rules.generators.faker.compile import MethodCompiler, recipe
from synthbeam.rules.generators.faker.symbolic import Static, Value
from synthbeam.rules.generators.text.vector import Const, Node, NotVectorisable, pick

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_DIGIT_SPAN = 1 << 40
_MAX_ATTEMPTS = 64
_SENTENCE_WORDS = 6  # Faker's defaults when paragraphs and texts make sentences
_PARAGRAPH_SENTENCES = 3


def _child_ids(ids: np.ndarray, counts: np.ndarray, key: int) -> np.ndarray:
    """``counts[i]`` child unit ids per parent id, flat, children of one parent together."""
    if not len(ids):
        return np.zeros(0, dtype=np.uint64)
    widest = int(counts.max())
    slots = np.arange(widest, dtype=np.uint64) * _GOLDEN  # array arithmetic wraps silently; scalars warn
    children = np.empty((len(ids), widest), dtype=np.uint64)
    for slot in range(widest):
        children[:, slot] = mix64((ids + slots[slot]) ^ np.uint64(key))
    return _first_of_each_row(children, counts)


def _first_of_each_row(matrix: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The first ``counts[i]`` entries of each row ``i``, flat."""
    widest = matrix.shape[1]
    if int(counts.min()) == widest:
        return matrix.reshape(-1)
    prefixes = np.arange(widest) < np.arange(widest + 1)[:, None]  # row k: the first k slots
    return matrix[np.take(prefixes, counts, axis=0)]


def _tokens(ids: np.ndarray, counts: np.ndarray, words: int, key: int) -> np.ndarray:
    """``counts[i]`` uniform words for unit ``ids[i]``, flat; one 64-bit hash serves several words.

    A hash reduced modulo ``words**k <= 2**40`` is read as ``k`` base-``words`` digits
    (bias below 2**-24).
    """
    if not len(ids) or words == 1:
        return np.zeros(int(counts.sum()), dtype=np.int64)
    per_draw = 1
    while words ** (per_draw + 1) <= _DIGIT_SPAN:
        per_draw += 1
    widest = int(counts.max())
    matrix = np.empty((len(ids), widest), dtype=np.int64)
    radix = np.uint64(words)
    span = np.uint64(words**per_draw)
    draw_offsets = np.arange(-(-widest // per_draw), dtype=np.uint64) * _GOLDEN
    for first in range(0, widest, per_draw):
        draw = mix64((ids + draw_offsets[first // per_draw]) ^ np.uint64(key))
        draw -= (draw // span) * span  # draw % span: numpy's uint64 % is several times slower
        for slot in range(first, min(widest, first + per_draw)):
            quotient = draw // radix
            matrix[:, slot] = draw - quotient * radix
            draw = quotient
    return _first_of_each_row(matrix, counts)


def _runs(table: pa.Array, tokens: np.ndarray, counts: np.ndarray) -> pa.Array:
    """Strings made of consecutive table entries: string ``i`` is the next ``counts[i]`` tokens' entries.

    One take lays every entry out back to back, so each string is already a
    contiguous run of the taken data: only the offsets at run starts are kept.
    """
    taken = table.take(pa.array(tokens))
    offsets = np.frombuffer(taken.buffers()[1], dtype=np.int32)[taken.offset : taken.offset + len(tokens) + 1]
    starts = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    return pa.StringArray.from_buffers(len(counts), pa.py_buffer(offsets[starts]), taken.buffers()[2])


def _offsets(counts: np.ndarray) -> pa.Array:
    offsets = np.zeros(len(counts) + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    return pa.array(offsets)


def _joined(flat: pa.Array, counts: np.ndarray, separator: str) -> pa.Array:
    return pc.binary_join(pa.ListArray.from_arrays(_offsets(counts), flat), separator)


def _sums(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per group sums of consecutive ``values`` (every count is at least 1)."""
    if not len(counts):
        return np.zeros(0, dtype=np.int64)
    return np.add.reduceat(values, np.cumsum(counts) - counts)


@dataclass
class Plan:
    """Units of text (words, sentences or paragraphs) decided but not yet written."""

    level: str  # "word" | "sentence" | "paragraph"
    lengths: np.ndarray  # characters per unit
    tokens: np.ndarray | None = None  # word slots in the table (per unit, or flat per sentence)
    counts: np.ndarray | None = None  # words per sentence / sentences per paragraph
    child: Plan | None = None  # the sentences of paragraphs

    def select(self, mask: np.ndarray) -> Plan:
        if self.level == "word":
            return Plan("word", self.lengths[mask], self.tokens[mask])
        inner = np.repeat(mask, self.counts)
        if self.level == "sentence":
            return Plan("sentence", self.lengths[mask], self.tokens[inner], self.counts[mask])
        return Plan("paragraph", self.lengths[mask], None, self.counts[mask], self.child.select(inner))


@dataclass(frozen=True)
class LoremSource:
    """A locale's words and punctuation, with the variants Faker uses at the start of text."""

    words: tuple[str, ...]
    connector: str
    punctuation: str

    @cached_property
    def table(self) -> pa.Array:
        """Words, then title-cased words (sentence starts), then first-letter-capitalised words."""
        titled = [w.title() for w in self.words]
        capitalised = [w[:1].upper() + w[1:] for w in self.words]
        return pa.array([*self.words, *titled, *capitalised], pa.string())

    @cached_property
    def lengths(self) -> np.ndarray:
        return np.array([len(s) for s in self.table.to_pylist()], dtype=np.int64)

    @cached_property
    def sentence_table(self) -> pa.Array:
        """Words ready to be laid end to end: six blocks of the word list.

        0: word + connector, 1: title-cased word + connector (a sentence's first),
        2: word + punctuation (a sentence's last), 3: title-cased word + punctuation
        (a one-word sentence), 4 and 5: as 2 and 3 followed by the connector (a
        sentence that another follows in its paragraph).
        """
        titled = [w.title() for w in self.words]
        blocks = []
        for ending in (self.connector, self.punctuation, self.punctuation + self.connector):
            blocks += [w + ending for w in self.words] + [w + ending for w in titled]
        return pa.array(blocks, pa.string())

    def varied(self, number: int, variable: bool, ids: np.ndarray, key: int) -> np.ndarray:
        """Faker's ``randomize_nb_elements(number, min=1)`` per unit id (or ``number`` as is)."""
        if not variable:
            return np.full(len(ids), number, dtype=np.int64)
        # the high 32 bits times 81, shifted down: uniform in [0, 81) to 2**-25, without uint64 %
        percent = ((mix64(ids ^ np.uint64(key)) >> np.uint64(32)) * np.uint64(81)) >> np.uint64(32)
        return np.maximum((number * (percent.view(np.int64) + 60)) // 100, 1)

    def words_plan(self, ids: np.ndarray, stream: Stream) -> Plan:
        tokens = _tokens(ids, np.ones(len(ids), dtype=np.int64), len(self.words), stream.child("word").key)
        return Plan("word", self.lengths[tokens], tokens)

    def sentence_plan(
        self, ids: np.ndarray, stream: Stream, nb_words: int, variable: bool, measure: bool = True
    ) -> Plan:
        """Sentences of ids; ``measure=False`` skips their lengths (for callers that only write them)."""
        counts = self.varied(nb_words, variable, ids, stream.child("words").key)
        tokens = _tokens(ids, counts, len(self.words), stream.child("word").key)
        tokens[np.cumsum(counts) - counts] += len(self.words)  # title-cased first word
        if not measure:
            return Plan("sentence", np.zeros(0, dtype=np.int64), tokens, counts)
        lengths = _sums(self.lengths[tokens], counts)
        lengths += (counts - 1) * len(self.connector) + len(self.punctuation)
        return Plan("sentence", lengths, tokens, counts)

    def paragraph_plan(self, ids: np.ndarray, stream: Stream, nb_sentences: int, variable: bool) -> Plan:
        counts = self.varied(nb_sentences, variable, ids, stream.child("sentences").key)
        sentence_ids = _child_ids(ids, counts, stream.child("sentence").key)
        sentences = self.sentence_plan(sentence_ids, stream, _SENTENCE_WORDS, True)
        lengths = _sums(sentences.lengths, counts) + (counts - 1) * len(self.connector)
        return Plan("paragraph", lengths, None, counts, sentences)

    def write(self, plan: Plan) -> pa.Array:
        """The strings of a plan's units."""
        if plan.level == "word":
            return self.table.take(pa.array(plan.tokens))
        if plan.level == "sentence":
            return _runs(self.sentence_table, self._sentence_tokens(plan, None), plan.counts)
        sentences = plan.child
        # every sentence but the last of its paragraph ends with punctuation and the connector
        followed = np.ones(len(sentences.counts), dtype=bool)
        followed[np.cumsum(plan.counts) - 1] = False
        words = _sums(sentences.counts, plan.counts)
        return _runs(self.sentence_table, self._sentence_tokens(sentences, followed), words)

    def _sentence_tokens(self, plan: Plan, followed: np.ndarray | None) -> np.ndarray:
        """A sentence plan's tokens as rows of :attr:`sentence_table` (see its blocks)."""
        tokens = plan.tokens.copy()
        last = np.cumsum(plan.counts) - 1
        block = 2 * len(self.words)
        tokens[last] += block if followed is None else np.where(followed, 2 * block, block)
        return tokens


@dataclass(frozen=True)
class Sentence(Node):
    source: LoremSource
    nb_words: int
    variable: bool

    def generate(self, index: np.ndarray, stream: Stream) -> pa.Array:
        ids = stream.child("id").bits(index)
        return self.source.write(self.source.sentence_plan(ids, stream, self.nb_words, self.variable, measure=False))


@dataclass(frozen=True)
class Paragraph(Node):
    source: LoremSource
    nb_sentences: int
    variable: bool

    def generate(self, index: np.ndarray, stream: Stream) -> pa.Array:
        ids = stream.child("id").bits(index)
        return self.source.write(self.source.paragraph_plan(ids, stream, self.nb_sentences, self.variable))


@dataclass(frozen=True)
class Text(Node):
    """Faker's ``text(max_nb_chars)``: whole units up to the limit, never longer."""

    source: LoremSource
    max_nb_chars: int

    @property
    def unit(self) -> str:
        if self.max_nb_chars < 25:
            return "word"
        return "sentence" if self.max_nb_chars < 100 else "paragraph"

    def _plan(self, ids: np.ndarray, stream: Stream) -> Plan:
        if self.unit == "word":
            return self.source.words_plan(ids, stream)
        if self.unit == "sentence":
            return self.source.sentence_plan(ids, stream, _SENTENCE_WORDS, True)
        return self.source.paragraph_plan(ids, stream, _PARAGRAPH_SENTENCES, True)

    def _separator(self) -> str:
        return "\n" if self.unit == "paragraph" else self.source.connector

    def generate(self, index: np.ndarray, stream: Stream) -> pa.Array:
        if not len(index):
            return pa.array([], pa.string())
        written: list[pa.Array] = []  # kept units, round by round
        owners: list[np.ndarray] = []  # the row (position in ``index``) of each kept unit
        separator = len(self._separator())
        pending = np.arange(len(index))
        for attempt in range(_MAX_ATTEMPTS):
            if not len(pending):
                break
            size = np.zeros(len(pending), dtype=np.int64)
            produced = np.zeros(len(pending), dtype=np.int64)
            rounds: list[tuple[np.ndarray, Plan]] = []
            open_rows = np.arange(len(pending))
            while len(open_rows):
                position = len(rounds)
                ids = stream.child("unit", attempt, position).bits(index[pending[open_rows]])
                plan = self._plan(ids, stream)
                rounds.append((open_rows, plan))
                produced[open_rows] += 1
                size[open_rows] += plan.lengths + (separator if position else 0)
                open_rows = open_rows[size[open_rows] < self.max_nb_chars]
            kept = produced - 1  # the unit that reached the limit is dropped, as Faker pops it
            for position, (rows, plan) in enumerate(rounds):
                keep = kept[rows] > position
                if keep.any():
                    chosen = plan.select(keep)
                    if position == 0 and self.unit == "word":
                        chosen.tokens = chosen.tokens + 2 * len(self.source.words)  # capitalised
                    written.append(self.source.write(chosen))
                    owners.append(pending[rows[keep]])
            pending = pending[kept <= 0]
        if len(pending):
            raise NotVectorisable(f"text(max_nb_chars={self.max_nb_chars}) cannot fit a single unit")
        row_of_unit = np.concatenate(owners)
        order = np.argsort(row_of_unit, kind="stable")  # rounds were appended in order
        units = pa.concat_arrays(written).take(pa.array(order))
        counts = np.bincount(row_of_unit, minlength=len(index))
        text = _joined(units, counts, self._separator())
        if self.unit == "word":
            text = pc.binary_join_element_wise(text, self.source.punctuation, "")
        return text


def _source(provider: Any, args: Mapping[str, Value]) -> LoremSource:
    words = args.get("ext_word_list", Static(None))
    if not isinstance(words, Static):
        raise NotVectorisable("computed word list")
    word_list = words.value if words.value is not None else provider.word_list
    word_list = tuple(str(w) for w in word_list)
    if not word_list or any(not w for w in word_list):
        raise NotVectorisable("empty words")
    return LoremSource(word_list, provider.word_connector, provider.sentence_punctuation)


def _static(args: Mapping[str, Value], name: str) -> Any:
    value = args[name]
    if not isinstance(value, Static):
        raise NotVectorisable(f"computed argument {name}")
    return value.value


@recipe("faker.providers.lorem.Provider.word")
def _word(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    words = _static(args, "ext_word_list")
    if words is None:
        words = provider.get_words_list(part_of_speech=_static(args, "part_of_speech"))
    return pick([str(w) for w in words])


@recipe("faker.providers.lorem.Provider.sentence")
def _sentence(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    nb_words = int(_static(args, "nb_words"))
    if nb_words <= 0:
        return Const("")
    return Sentence(_source(provider, args), nb_words, bool(_static(args, "variable_nb_words")))


@recipe("faker.providers.lorem.Provider.paragraph")
def _paragraph(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    nb_sentences = int(_static(args, "nb_sentences"))
    if nb_sentences <= 0:
        return Const("")
    return Paragraph(_source(provider, args), nb_sentences, bool(_static(args, "variable_nb_sentences")))


@recipe("faker.providers.lorem.Provider.text")
def _text(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    limit = int(_static(args, "max_nb_chars"))
    if limit < 5:
        raise NotVectorisable("text() needs max_nb_chars >= 5")
    return Text(_source(provider, args), limit)
