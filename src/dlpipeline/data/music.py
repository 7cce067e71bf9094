"""Melodies of the Bach chorales that ship inside ``music21``, as (pitch, duration) tokens, and back as sound.

The corpus is the folder ``corpus/<name>`` of the installed music21 wheel (``bach``: several
hundred four-part chorales as MusicXML), so nothing is downloaded. music21's software is
BSD-licensed; its corpus is distributed "with the permission of the encoders ... out of
copyright in the United States or ... licensed for use" (``music21/corpus/license.txt``).

A chorale's melody is its soprano part, transposed so that its key signature has neither
sharps nor flats (major chorales to C major, minor ones to A minor: one pitch collection),
ties merged. Every note or rest is one token ``<pitch>:<duration>``: the pitch as written
with its octave (``E5``, ``F#4``, ``B-4``) or ``R`` for a rest, the duration in quarter notes
as a fraction (``1``, ``1/2``, ``3/2``). A melody is cut after its first ``max_notes`` tokens.

:class:`NoteVocabulary` numbers the tokens as the character tokenizer numbers characters
(PAD 0, UNKNOWN 1, END 2, which also starts a melody), so the shared language-model code
trains and samples on melodies unchanged; :func:`ngram_nll` is the count baseline;
:func:`midi_bytes` and :func:`wav_bytes` turn a melody into a MIDI file and a short WAV.
"""

import io
import wave
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from pathlib import Path

import music21
import numpy as np
import torch
from music21 import converter, interval, key, midi, note, pitch, stream

from dlpipeline.data.text import END_ID, PAD_ID, SPECIALS, UNKNOWN_ID

REST = "R"
"""The pitch of a rest token."""
UNKNOWN_TOKEN = "?"
"""How :meth:`NoteVocabulary.decode` renders a token the vocabulary never saw."""
MAX_DENOMINATOR = 48
"""Durations are kept as fractions of a quarter note with at most this denominator (triplets of 16ths)."""


class MissingCorpusError(LookupError):
    """The installed ``music21`` has no such corpus folder, or none of its files."""


def corpus_folder() -> Path:
    """The ``corpus`` folder inside the installed music21 package."""
    return Path(music21.__file__).parent / "corpus"


def corpus_files(corpus: str, pattern: str) -> list[Path]:
    """The files of ``corpus/<corpus>`` matching ``pattern`` in the installed music21, sorted by name.

    Raises :class:`MissingCorpusError`, in one line naming the corpus, where the folder is
    not there or holds no such file (a music21 installed without its corpus, a misspelled name).
    """
    folder = corpus_folder() / corpus
    where = f"music21 {music21.__version__} ships no corpus folder {corpus!r} (music21/corpus/{corpus})"
    if not folder.is_dir():
        raise MissingCorpusError(f"{where}: no melodies to read")
    files = sorted(folder.glob(pattern))
    if not files:
        raise MissingCorpusError(f"{where} with files {pattern!r}: no melodies to read")
    return files


def duration_text(quarters: float | Fraction) -> str:
    """A duration in quarter notes as a short fraction: ``1``, ``1/2``, ``3/2``."""
    return str(Fraction(quarters).limit_denominator(MAX_DENOMINATOR))


def note_token(pitch_name: str, quarters: float | Fraction) -> str:
    """The token of a note (``pitch_name`` such as ``E5``) or a rest (:data:`REST`)."""
    return f"{pitch_name}:{duration_text(quarters)}"


def parse_token(token: str) -> tuple[str, Fraction]:
    """``(pitch name or R, duration in quarters)`` of a token: :func:`note_token`'s inverse."""
    pitch_name, _, quarters = token.partition(":")
    return pitch_name, Fraction(quarters)


def soprano(score: stream.Score) -> stream.Part | None:
    """The part named or identified as the soprano, if the score has one."""
    for part in score.parts:
        if any(str(name or "").lower().startswith("soprano") for name in (part.partName, part.id)):
            return part
    return None


def shift_to_common_key(part: stream.Part) -> interval.Interval:
    """The shift that takes ``part``'s first key signature to no sharps or flats (major to C, minor to A).

    The nearer way: a melody moves by at most a tritone.
    """
    signatures = part.recurse().getElementsByClass(key.KeySignature)
    sharps = signatures[0].sharps if signatures else 0
    start = pitch.Pitch(key.KeySignature(sharps).asKey("major").tonic.name, octave=4)
    shift = interval.Interval(start, pitch.Pitch("C4"))
    if shift.semitones > 6:
        return interval.Interval(start, pitch.Pitch("C3"))
    if shift.semitones < -6:
        return interval.Interval(start, pitch.Pitch("C5"))
    return shift


def melody_tokens(part: stream.Part, max_notes: int) -> list[str]:
    """The first ``max_notes`` notes and rests of ``part`` in the common key as tokens (tied notes as one).

    A chord gives its top note; grace notes (no duration) are left out. Each pitch is
    transposed on its own (the whole part is not: that costs ten times the parse).
    """
    shift = shift_to_common_key(part)
    names: list[str] = []
    durations: list[Fraction] = []
    for element in part.recurse().notesAndRests:
        if element.quarterLength == 0:
            continue
        tie = getattr(element, "tie", None)
        if tie is not None and tie.type in ("continue", "stop") and names and names[-1] != REST:
            durations[-1] += Fraction(element.quarterLength)
            continue
        if len(names) == max_notes:
            break
        if isinstance(element, note.Rest):
            names.append(REST)
        else:
            names.append(max(element.pitches, key=lambda p: p.ps).transpose(shift).nameWithOctave)
        durations.append(Fraction(element.quarterLength))
    return [note_token(name, quarters) for name, quarters in zip(names, durations, strict=True)]


def chorale_melodies(files: Sequence[Path], max_notes: int) -> dict[str, list[str]]:
    """``{file stem: tokens}``: each file's soprano melody in the common key (no soprano, no entry).

    Each file is parsed from its source (``forceSource``): music21 then writes no cache.
    """
    melodies = {}
    for path in files:
        part = soprano(converter.parse(path, forceSource=True))
        if part is not None:
            melodies[path.stem] = melody_tokens(part, max_notes)
    return melodies


@dataclass(frozen=True)
class NoteVocabulary:
    """Tokens ↔ ids: PAD (0), UNKNOWN (1), END (2), then ``tokens`` (each listed once)."""

    tokens: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(set(self.tokens)) != len(self.tokens):
            raise ValueError("tokens must be unique")
        if set(self.tokens) & {*SPECIALS, UNKNOWN_TOKEN}:
            raise ValueError(f"{SPECIALS} and {UNKNOWN_TOKEN!r} are reserved and cannot be tokens")

    @classmethod
    def from_melodies(cls, melodies: Iterable[Sequence[str]]) -> "NoteVocabulary":
        """The vocabulary of the sorted distinct tokens of ``melodies`` (pass the training melodies only)."""
        return cls(tuple(sorted(set().union(*melodies))))

    @property
    def vocab_size(self) -> int:
        """The number of ids (specials included)."""
        return len(SPECIALS) + len(self.tokens)

    def encode(self, melody: Sequence[str]) -> list[int]:
        """The id of each token; a token the vocabulary does not hold becomes UNKNOWN. No END is added."""
        ids = self._ids
        return [ids.get(token, UNKNOWN_ID) for token in melody]

    def decode(self, ids: Iterable[int]) -> str:
        """The tokens of ``ids`` up to the first END, space-separated (PAD skipped, UNKNOWN as ``?``).

        A string, as the character tokenizer's: the shared sampler decodes with it.
        """
        ids = [int(token) for token in ids]
        outside = [token for token in ids if not 0 <= token < self.vocab_size]
        if outside:
            raise ValueError(f"token id {outside[0]} is outside the vocabulary of {self.vocab_size}")
        kept = ids[: ids.index(END_ID)] if END_ID in ids else ids
        shown = {UNKNOWN_ID: UNKNOWN_TOKEN} | {index: token for token, index in self._ids.items()}
        return " ".join(shown[token] for token in kept if token != PAD_ID)

    @cached_property
    def _ids(self) -> dict[str, int]:
        """Token → id."""
        return {token: index for index, token in enumerate(self.tokens, start=len(SPECIALS))}


def melody_tensors(
    melodies: Sequence[Sequence[str]], vocabulary: NoteVocabulary, max_len: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Next-token pairs ``(n, max_len)``: inputs ``[END] + ids``, targets ``ids + [END]``, PAD after.

    Every melody needs ``len(melody) + 1 <= max_len`` steps.
    """
    longest = max(map(len, melodies))
    if longest + 1 > max_len:
        raise ValueError(f"a melody of {longest} notes needs max_len >= {longest + 1}, got {max_len}")
    inputs = torch.full((len(melodies), max_len), PAD_ID, dtype=torch.long)
    targets = torch.full((len(melodies), max_len), PAD_ID, dtype=torch.long)
    for row, melody in enumerate(melodies):
        ids = vocabulary.encode(melody)
        inputs[row, : len(ids) + 1] = torch.tensor([END_ID, *ids])
        targets[row, : len(ids) + 1] = torch.tensor([*ids, END_ID])
    return inputs, targets


def _ngrams(melodies: Iterable[Sequence[int]], order: int) -> Iterable[tuple[tuple[int, ...], int]]:
    """``(context, next id)`` of every predicted id (each note, then END), contexts padded with END."""
    for ids in melodies:
        padded = [END_ID] * (order - 1) + list(ids) + [END_ID]
        for index in range(order - 1, len(padded)):
            yield tuple(padded[index - order + 1 : index]), padded[index]


@dataclass(frozen=True)
class CountNgram:
    """How often each id followed each context of ``order - 1`` ids in the melodies counted."""

    order: int
    counts: Counter[tuple[tuple[int, ...], int]]
    context_counts: Counter[tuple[int, ...]]


def ngram_counts(melodies: Iterable[Sequence[int]], order: int) -> CountNgram:
    """The counts of :class:`CountNgram` over id sequences (order 1: a unigram, 2: a bigram, ...)."""
    if order < 1:
        raise ValueError(f"order must be at least 1, got {order}")
    counts = Counter(_ngrams(melodies, order))
    contexts: Counter[tuple[int, ...]] = Counter()
    for (context, _), count in counts.items():
        contexts[context] += count
    return CountNgram(order, counts, contexts)


def ngram_nll(
    model: CountNgram, melodies: Sequence[Sequence[int]], vocab_size: int, smoothing: float
) -> float:
    """Mean negative log-likelihood (nats) per predicted id (every note and the final END) of ``melodies``.

    ``P(b | context) = (count(context, b) + smoothing) / (count(context) + smoothing * vocab_size)``
    over the whole vocabulary, as a network's softmax is. With ``smoothing=0`` an n-gram never
    counted has probability 0 and the result is ``inf``.
    """
    if smoothing < 0:
        raise ValueError(f"smoothing must be non-negative, got {smoothing}")
    pairs = list(_ngrams(melodies, model.order))
    if not pairs:
        raise ValueError("no melodies to score")
    numerators = np.array([model.counts[pair] + smoothing for pair in pairs], dtype=np.float64)
    denominators = np.array(
        [model.context_counts[context] + smoothing * vocab_size for context, _ in pairs], dtype=np.float64
    )
    if (numerators == 0).any():
        return float("inf")
    return float(np.mean(np.log(denominators) - np.log(numerators)))


def melody_stream(melody: Sequence[str]) -> stream.Stream:
    """A music21 stream of ``melody``'s notes and rests, one after another."""
    part = stream.Stream()
    for token in melody:
        name, quarters = parse_token(token)
        element = note.Rest() if name == REST else note.Note(name)
        element.quarterLength = quarters
        part.append(element)
    return part


def midi_bytes(melody: Sequence[str]) -> bytes:
    """A standard MIDI file of ``melody`` (music21's writer, at its default 120 quarter notes a minute)."""
    return midi.translate.streamToMidiFile(melody_stream(melody)).writestr()


def midi_notes(data: bytes) -> list[tuple[int | None, Fraction]]:
    """``(MIDI pitch or None for a rest, quarters)`` of each note and rest of a MIDI file, read by music21.

    Notes split at a barline (music21 reads into 4/4 bars) are merged back; the rests after
    the last note (the last bar's filling: a MIDI file ends at its last note) are left out.
    """
    file = midi.MidiFile()
    file.readstr(data)
    score = midi.translate.midiFileToStream(file).stripTies()
    read = [
        (None if isinstance(element, note.Rest) else element.pitch.midi, Fraction(element.quarterLength))
        for element in score.recurse().notesAndRests
    ]
    while read and read[-1][0] is None:
        read.pop()
    return read


def token_midi(token: str) -> int | None:
    """The MIDI pitch of a note token, ``None`` for a rest."""
    name, _ = parse_token(token)
    return None if name == REST else pitch.Pitch(name).midi


def wav_bytes(
    melody: Sequence[str], sample_rate: int, seconds_per_quarter: float, max_seconds: float
) -> bytes:
    """A mono 16-bit WAV of ``melody``: each note a sine at its pitch, faded in and out; rests silent.

    The sound stops at ``max_seconds`` (a short sketch to listen to, not a rendition).
    """
    pieces = []
    for token in melody:
        _, quarters = parse_token(token)
        n_samples = round(float(quarters) * seconds_per_quarter * sample_rate)
        midi_pitch = token_midi(token)
        if midi_pitch is None:
            pieces.append(np.zeros(n_samples))
            continue
        frequency = 440.0 * 2 ** ((midi_pitch - 69) / 12)
        time = np.arange(n_samples) / sample_rate
        envelope = np.minimum(1.0, np.minimum(time, time[::-1]) / 0.01)  # 10 ms ramps: no clicks
        pieces.append(0.3 * envelope * np.sin(2 * np.pi * frequency * time))
    signal = np.concatenate(pieces or [np.zeros(0)])[: round(max_seconds * sample_rate)]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(sample_rate)
        file.writeframes((signal * 32767).astype("<i2").tobytes())
    return buffer.getvalue()
