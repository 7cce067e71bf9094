"""Numbers written out in words, in English and in Spanish: the source side of a translation task.

The word tables are written here (no package is needed, nothing is downloaded). English
writes ``4021`` as ``four thousand twenty-one`` (hyphenated tens, no "and"); Spanish as
``cuatro mil veintiuno`` (``uno`` shortened to ``un``/``ún`` before ``mil``, ``cien`` alone
and ``ciento`` before more, the accents of ``dieciséis``, ``veintidós``, ``veintitrés`` and
``veintiséis`` kept). Numbers from 0 to 999,999.
"""

from collections.abc import Callable, Sequence

MAX_NUMBER = 999_999


def _words(text: str) -> tuple[str, ...]:
    """The words of ``text``, in order."""
    return tuple(text.split())


_EN_UNITS = _words(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
)
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_ES_UNITS = _words(
    "cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince "
    "dieciséis diecisiete dieciocho diecinueve veinte veintiuno veintidós veintitrés veinticuatro "
    "veinticinco veintiséis veintisiete veintiocho veintinueve"
)
_ES_TENS = ("", "", "", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa")
_ES_HUNDREDS = _words(
    "- ciento doscientos trescientos cuatrocientos quinientos seiscientos setecientos ochocientos novecientos"
)


def _check(number: int) -> None:
    """Refuse a number the tables cannot write."""
    if not 0 <= number <= MAX_NUMBER:
        raise ValueError(f"number {number} is outside 0..{MAX_NUMBER}")


def _written(
    number: int, zero: str, below_1000: Callable[[int], str], thousands: Callable[[int], str]
) -> str:
    """``number`` in words: ``zero``, or its thousands (``thousands``), then the rest (``below_1000``)."""
    _check(number)
    if number == 0:
        return zero
    high, rest = divmod(number, 1000)
    return " ".join([*([thousands(high)] if high else []), *([below_1000(rest)] if rest else [])])


def _below_1000(
    hundreds: str | None, rest: int, units: Sequence[str], tens: Sequence[str], joiner: str
) -> str:
    """``hundreds`` (if any), then ``rest`` (0..99) in words: ``units`` below ``len(units)``, then tens."""
    words = [hundreds] if hundreds else []
    if rest >= len(units):
        ten, unit = divmod(rest, 10)
        words.append(tens[ten] + (f"{joiner}{units[unit]}" if unit else ""))
    elif rest:
        words.append(units[rest])
    return " ".join(words)


def english(number: int) -> str:
    """``number`` in English words, e.g. ``4021`` → ``four thousand twenty-one``."""
    return _written(number, "zero", _english_below_1000, lambda high: f"{_english_below_1000(high)} thousand")


def _english_below_1000(number: int) -> str:
    """1..999 in English words."""
    hundreds, rest = divmod(number, 100)
    return _below_1000(f"{_EN_UNITS[hundreds]} hundred" if hundreds else None, rest, _EN_UNITS, _EN_TENS, "-")


def spanish(number: int) -> str:
    """``number`` in Spanish words, e.g. ``21100`` → ``veintiún mil cien``."""
    return _written(number, "cero", _spanish_below_1000, _spanish_thousands)


def _spanish_thousands(high: int) -> str:
    """``high`` thousands in Spanish: ``mil`` alone, else ``uno`` shortened before ``mil``."""
    if high == 1:
        return "mil"
    words = _spanish_below_1000(high)
    if words.endswith("veintiuno"):
        words = words[: -len("veintiuno")] + "veintiún"
    elif words.endswith("uno"):
        words = words[: -len("uno")] + "un"
    return f"{words} mil"


def _spanish_below_1000(number: int) -> str:
    """1..999 in Spanish words (``cien`` alone, ``ciento`` before more)."""
    hundreds, rest = divmod(number, 100)
    written = ("cien" if number == 100 else _ES_HUNDREDS[hundreds]) if hundreds else None
    return _below_1000(written, rest, _ES_UNITS, _ES_TENS, " y ")


WRITERS: dict[str, Callable[[int], str]] = {"english": english, "spanish": spanish}
"""Each language's writer of numbers in words."""
