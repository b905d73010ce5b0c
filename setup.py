"""Builds the compiled geoparser, geo/_cmentions.pyx (everything else about the
package is in pyproject.toml). ``pip install -e .`` runs this; so does
``python setup.py build_ext --inplace`` after editing the .pyx.

The build records the SHA-256 of the .pyx it compiled, so geo/mentions.py can
tell a stale build from a current one and fall back to the pure-Python
geoparser (with a warning) instead of running old code.

Floating point: scores and distances must be the same floats as the Python
reference computes, so the compiler may not fuse multiply-adds
(-ffp-contract=off) nor replace libm's sin, cos, asin and pow with its own
inline versions (pow(x, 2.0) would become x * x, which can differ in the last
bit).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

ROOT = Path(__file__).resolve().parent
SOURCE = "geo/_cmentions.pyx"

_sha = hashlib.sha256((ROOT / SOURCE).read_bytes()).hexdigest()
_flags = [] if sys.platform == "win32" else [
    "-O2",
    "-ffp-contract=off",
    "-fno-builtin-sin",
    "-fno-builtin-cos",
    "-fno-builtin-asin",
    "-fno-builtin-pow",
]

extension = Extension(
    "geo._cmentions",
    [SOURCE],
    define_macros=[("GEO_SOURCE_SHA256", f'"{_sha}"')],
    extra_compile_args=_flags,
)

setup(ext_modules=cythonize([extension], language_level=3, quiet=True))
