"""Reading untrusted article files into text.

News text arrives as UTF-8, UTF-8 with a BOM, UTF-16 with a BOM, or legacy
Windows-1252/Latin-1. We decode what can be detected reliably and refuse the
rest with a one-line reason, rather than mangling it.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from geo.errors import InputError

MAX_ARTICLE_BYTES = 25 * 1024 * 1024
"""Largest article accepted: 25 MB, above any real article (a 20 MB one is still read)."""

_CONTROL_OK = {"\t", "\n", "\r", "\f", "\v"}


def _too_binary(text: str) -> bool:
    """Text with NULs or many C0 controls is binary, not an article."""
    if "\x00" in text:
        return True
    sample = text[:65536]
    if not sample:
        return False
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in _CONTROL_OK)
    return controls / len(sample) > 0.01


def decode_article(data: bytes, *, name: str) -> str:
    """Decode article bytes, or raise InputError naming ``name`` and the reason."""
    if len(data) > MAX_ARTICLE_BYTES:
        raise InputError(
            f"{name}: {len(data) / 1e6:.1f} MB is larger than the "
            f"{MAX_ARTICLE_BYTES // (1024 * 1024)} MB article limit; split the file"
        )
    text: str | None = None
    if data.startswith(codecs.BOM_UTF8):
        text = _strict(data[len(codecs.BOM_UTF8) :], "utf-8", name)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _strict(data, "utf-16", name)
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = _legacy(data, name=name)
    if _too_binary(text):
        raise InputError(
            f"{name}: looks like a binary file (NUL or control bytes), not article text"
        )
    if not text.strip():
        raise InputError(f"{name}: the article is empty")
    return text


def _strict(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name}: invalid {encoding} at byte {exc.start}; re-save the file as UTF-8"
        ) from None


def _legacy(data: bytes, *, name: str) -> str:
    """Accept Windows-1252 only when the bytes look like Western text.

    NUL bytes or undefined cp1252 bytes mean this is not a legacy text file
    (more likely binary or UTF-16 without a BOM), so we refuse.
    """
    if b"\x00" in data:
        raise InputError(f"{name}: looks like a binary file (NUL bytes), not article text")
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise InputError(
            f"{name}: not valid UTF-8 and not Windows-1252 text; re-save the file as UTF-8"
        ) from None
    high = sum(1 for b in data if b >= 0x80)
    if high / max(len(data), 1) > 0.3:
        raise InputError(
            f"{name}: not valid UTF-8 and too many non-ASCII bytes to be Windows-1252 "
            "text; re-save the file as UTF-8"
        )
    return text


def read_article(path: Path | str) -> str:
    """Read and decode one article file; errors name the file."""
    p = Path(path)
    try:
        if p.is_dir():
            raise InputError(f"{p}: is a directory, not an article file")
        size = p.stat().st_size
        if size > MAX_ARTICLE_BYTES:
            raise InputError(
                f"{p}: {size / 1e6:.1f} MB is larger than the "
                f"{MAX_ARTICLE_BYTES // (1024 * 1024)} MB article limit; split the file"
            )
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except PermissionError:
        raise InputError(f"{p}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror or exc})") from None
    return decode_article(data, name=str(p))
