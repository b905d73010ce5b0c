"""Rebuild data/common_words.txt: English words that are usually written lower-case.

A place name that is also one of these words (Police, Most, Nice, Split,
Reading) needs context before the geoparser accepts it. Sources:
- the SCOWL word list as shipped by Debian's ``wamerican`` package
  (/usr/share/dict/american-english); its lower-case entries are common words,
  its capitalised entries proper nouns;
- ``wordfreq`` (pip extra ``build-data``) to keep only words that occur in
  real English text (Zipf frequency >= 2.5).
Weekday and month names are added: they are capitalised but never places.

Usage: apt-get install wamerican && pip install -e '.[build-data]' &&
       python scripts/build_common_words.py
"""

from __future__ import annotations

import re
from pathlib import Path

from wordfreq import zipf_frequency

DICT = Path("/usr/share/dict/american-english")
OUT = Path(__file__).resolve().parent.parent / "data" / "common_words.txt"
EXTRA = [
    *("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
    *("january", "february", "march", "april", "may", "june", "july", "august"),
    *("september", "october", "november", "december"),
]


def main() -> None:
    words = set(EXTRA)
    for line in DICT.read_text(encoding="utf-8").splitlines():
        if re.fullmatch(r"[a-z]{2,}", line) and zipf_frequency(line, "en") >= 2.5:
            words.add(line)
    header = (
        "# Common English words (lower-case); see scripts/build_common_words.py.\n"
        "# Derived from SCOWL (Copyright 2000-2011 Kevin Atkinson, permissive licence)\n"
        "# filtered by wordfreq frequency. One word per line.\n"
    )
    OUT.write_text(header + "\n".join(sorted(words)) + "\n", encoding="utf-8")
    print(f"wrote {len(words)} words to {OUT}")


if __name__ == "__main__":
    main()
