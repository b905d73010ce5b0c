"""Command line: ``python -m geo COMMAND ...``.

Exit codes: 0 success, 1 partial success (some inputs refused, reported on
stderr), 2 usage or input error (including ``--strict`` stopping at a bad
input), 3 store error, 4 internal error (a bug: please report it), 130
interrupted. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Sequence

from geo.errors import GeoError, InputError, StoreError

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_INPUT = 2
EXIT_STORE = 3
EXIT_INTERNAL = 4
EXIT_INTERRUPTED = 130

Handler = Callable[[argparse.Namespace], int]


def _iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; use YYYY-MM-DD") from None


# Characters JSON leaves raw that a terminal may act on: DEL and C1 controls
# (U+009B is CSI), line/paragraph separators, bidi overrides (Trojan Source).
_TERMINAL_ESCAPES = {
    code: f"\\u{code:04x}"
    for code in (*range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, 0x2028, 0x2029,
                 *range(0x202A, 0x202F), *range(0x2066, 0x206A))
}


def terminal_safe(json_text: str) -> str:
    """JSON text with the characters above written as ``\\uXXXX`` escapes: the same
    JSON value, but article text cannot move the cursor or reorder the screen."""
    return json_text.translate(_TERMINAL_ESCAPES)


def _cmd_mentions(args: argparse.Namespace) -> int:
    from geo.mentions import find_mentions, mentions_to_featurecollection
    from geo.textio import read_article

    text = read_article(args.file)
    mentions = find_mentions(text, published=args.published)
    fc = mentions_to_featurecollection(mentions)
    sys.stdout.write(terminal_safe(json.dumps(fc, ensure_ascii=False)))
    sys.stdout.write("\n")
    return EXIT_OK


def _add_mentions(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "mentions",
        help="print the place mentions of one article as GeoJSON",
        description="Find and resolve every place mention of FILE; prints an RFC 7946 "
        "FeatureCollection (lon/lat) on stdout.",
    )
    p.add_argument("file", help="article text file (UTF-8 preferred)")
    p.add_argument("--published", type=_iso_date, default=None, help="publication date YYYY-MM-DD")
    p.set_defaults(handler=_cmd_mentions)


# Each command module registers itself here; the event commands live in
# geo/cli_events.py so the two halves can grow independently.
_REGISTRARS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    _add_mentions,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m geo", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in _REGISTRARS:
        register(sub)
    try:
        from geo import cli_events
    except ImportError:  # pragma: no cover - only while the module is being written
        pass
    else:
        cli_events.register(sub)
    return parser


def _error(message: str) -> None:
    """One line on stderr, whatever the message holds (file names are untrusted)."""
    from geo.textio import display_name

    print(f"error: {' '.join(display_name(message).split())}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code (argparse exits 2 on usage errors)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except StoreError as exc:
        _error(str(exc))
        return EXIT_STORE
    except (InputError, GeoError) as exc:
        _error(str(exc))
        return EXIT_INPUT
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED
    except MemoryError:
        _error("out of memory; process fewer or smaller articles at a time")
        return EXIT_INTERNAL
    except Exception as exc:  # a bug: one line, not a traceback, and a distinct code
        _error(f"internal error ({type(exc).__name__}: {exc}); please report this with "
               "the command you ran")
        return EXIT_INTERNAL
