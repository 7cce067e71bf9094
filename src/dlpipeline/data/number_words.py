"""Numbers written out in words, in English and in Spanish: the source side of a translation task.

The word tables are written here (no package is needed, nothing is downloaded). English
writes ``4021`` as ``four thousand twenty-one`` (hyphenated tens, no "and"); Spanish as
``cuatro mil veintiuno`` (``uno`` shortened to ``un``/``ún`` before ``mil``, ``cien`` alone
and ``ciento`` before more, the accents of ``dieciséis``, ``veintidós``, ``veintitrés`` and
``veintiséis`` kept). Numbers from 0 to 999,999.
"""

from collections.abc import Callable

MAX_NUMBER = 999_999

_EN_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]

_ES_UNITS = [
    "cero",
    "uno",
    "dos",
    "tres",
    "cuatro",
    "cinco",
    "seis",
    "siete",
    "ocho",
    "nueve",
    "diez",
    "once",
    "doce",
    "trece",
    "catorce",
    "quince",
    "dieciséis",
    "diecisiete",
    "dieciocho",
    "diecinueve",
    "veinte",
    "veintiuno",
    "veintidós",
    "veintitrés",
    "veinticuatro",
    "veinticinco",
    "veintiséis",
    "veintisiete",
    "veintiocho",
    "veintinueve",
]
_ES_TENS = ["_", "_", "_", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa"]
_ES_HUNDREDS = [
    "_",
    "ciento",
    "doscientos",
    "trescientos",
    "cuatrocientos",
    "quinientos",
    "seiscientos",
    "setecientos",
    "ochocientos",
    "novecientos",
]


def _check(number: int) -> None:
    """Refuse a number the tables cannot write."""
    if not 0 <= number <= MAX_NUMBER:
        raise ValueError(f"number {number} is outside 0..{MAX_NUMBER}")


def english(number: int) -> str:
    """``number`` in English words, e.g. ``4021`` → ``four thousand twenty-one``."""
    _check(number)
    if number == 0:
        return "zero"
    thousands, rest = divmod(number, 1000)
    words = [f"{_english_below_1000(thousands)} thousand"] if thousands else []
    if rest:
        words.append(_english_below_1000(rest))
    return " ".join(words)


def _english_below_1000(number: int) -> str:
    """1..999 in English words."""
    hundreds, rest = divmod(number, 100)
    words = [f"{_EN_UNITS[hundreds]} hundred"] if hundreds else []
    if rest >= 20:
        tens, units = divmod(rest, 10)
        words.append(_EN_TENS[tens] + (f"-{_EN_UNITS[units]}" if units else ""))
    elif rest:
        words.append(_EN_UNITS[rest])
    return " ".join(words)


def spanish(number: int) -> str:
    """``number`` in Spanish words, e.g. ``21100`` → ``veintiún mil cien``."""
    _check(number)
    if number == 0:
        return "cero"
    thousands, rest = divmod(number, 1000)
    words = []
    if thousands == 1:
        words.append("mil")
    elif thousands:
        words.append(f"{_before_mil(_spanish_below_1000(thousands))} mil")
    if rest:
        words.append(_spanish_below_1000(rest))
    return " ".join(words)


def _before_mil(words: str) -> str:
    """``uno`` shortened before ``mil``: ``veintiuno`` → ``veintiún``, ``y uno`` → ``y un``."""
    if words.endswith("veintiuno"):
        return words[: -len("veintiuno")] + "veintiún"
    if words.endswith("uno"):
        return words[: -len("uno")] + "un"
    return words


def _spanish_below_1000(number: int) -> str:
    """1..999 in Spanish words."""
    hundreds, rest = divmod(number, 100)
    words = []
    if hundreds:
        words.append("cien" if number == 100 else _ES_HUNDREDS[hundreds])
    if rest >= 30:
        tens, units = divmod(rest, 10)
        words.append(_ES_TENS[tens] + (f" y {_ES_UNITS[units]}" if units else ""))
    elif rest:
        words.append(_ES_UNITS[rest])
    return " ".join(words)


WRITERS: dict[str, Callable[[int], str]] = {"english": english, "spanish": spanish}
"""Each language's writer of numbers in words."""
