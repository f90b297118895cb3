"""Errors users see when their input is bad.

Every untrusted input (an upload, a path, a log, text typed in a box) enters through
``neurogenesis.io`` and leaves it as a clean object or as an :class:`InputError` whose message says
what was found, what was expected and what to do, in the Keras error style::

    Expected a .keras or .h5 file. Received: 'model.pt'
"""

from __future__ import annotations

__all__ = ["InputError", "UnsafeModelError", "UnsupportedModelError", "ExportUnavailableError"]


class InputError(ValueError):
    """Input that cannot be used: a wrong, damaged or missing file, a bad value.

    Pages show the message with ``st.error`` and the CLI prints it on stderr with exit code 2, so
    the message must stand alone: one or two sentences a user can act on.
    """


class UnsafeModelError(InputError):
    """A model file that was refused because loading it could run code or exhaust the machine."""


class UnsupportedModelError(InputError):
    """A model that loads but that an analysis cannot handle (no conv layer for Grad-CAM, ...)."""


class ExportUnavailableError(RuntimeError):
    """An export this machine cannot make (PNG/SVG/PDF need a Chrome or Chromium browser)."""
