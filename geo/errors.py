"""One exception hierarchy for the whole package.

Every error a user can cause derives from :class:`GeoError` and also from the
matching built-in, so callers may catch either. Messages name the file (when
there is one) and say what to do.
"""

from __future__ import annotations


class GeoError(Exception):
    """Base class of every error this package raises on purpose."""


class InputError(GeoError, ValueError):
    """An input file or value is unusable (bad encoding, empty, malformed)."""


class ManifestError(InputError):
    """The articles manifest is missing, malformed or names impossible rows."""


class GazetteerError(GeoError, RuntimeError):
    """The bundled gazetteer data is missing or corrupt."""


class StoreError(GeoError, OSError):
    """The event store cannot be read or written."""


class RulesError(GeoError, ValueError):
    """A data-driven rules file (event triggers, aliases) is malformed."""
