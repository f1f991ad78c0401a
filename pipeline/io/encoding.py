"""Text files saved in another encoding than UTF-8, told apart from a stray byte in a UTF-8 file.

Excel's plain "CSV" is Windows-1252 and its "Unicode Text" is UTF-16: in the first only the lines
with an accent or a smart quote fail to read, so each is rejected and the rest is read; saying once
that the whole file is in another encoding keeps the reader from taking that for a few bad rows.
"""

from __future__ import annotations

import codecs
from pathlib import Path

UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # also how UTF-32's marks begin
NOT_UTF8_TEXT = "not UTF-8 text"
SAVE_CSV = 'such as Windows-1252 (Excel\'s plain "CSV"): save it as "CSV UTF-8"'
SAVE_TEXT = "such as Windows-1252: save it as UTF-8"


def refuse_utf16(path: Path) -> None:
    """A one-line `ValueError` for a file that starts with a UTF-16 byte-order mark: read as UTF-8,
    every line of it fails."""
    with path.open("rb") as handle:
        start = handle.read(2)
    if start in UTF16_BOMS:
        raise ValueError(f'{path}: cannot read (it is UTF-16 text, not UTF-8: save it as UTF-8, in Excel '
                         'as "CSV UTF-8" rather than "Unicode Text")')


def other_encoding(advice: str) -> str:
    return f"the file seems to be in another encoding, {advice}"


class EncodingCheck:
    """Fed a file's lines (bytes): whether the file as a whole seems to be in another encoding, that
    is, two or more lines are not UTF-8 and none holds a character that UTF-8 writes as several bytes
    (one bad line may be a stray byte; a UTF-8 file with accents shows them right elsewhere)."""

    def __init__(self):
        self.failing, self.utf8_seen = 0, False

    def see(self, line: bytes) -> None:
        if line.isascii():
            return
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            self.failing += 1
        else:
            self.utf8_seen = True

    @property
    def other_encoding(self) -> bool:
        return self.failing >= 2 and not self.utf8_seen


class NotUtf8Reasons:
    """The reason for each line that is not UTF-8: the first says what to do when the whole file
    seems to be in another encoding, so a summary showing the first rejects says it once."""

    def __init__(self, check: EncodingCheck, advice: str):
        self.advice = advice if check.other_encoding else None

    def reason(self) -> str:
        advice, self.advice = self.advice, None
        return f"{NOT_UTF8_TEXT} ({other_encoding(advice)})" if advice else NOT_UTF8_TEXT
