"""The browser tests' shared fixtures."""

from __future__ import annotations

# One picture-check server per pytest process, shared by every demo's tour file.
from tests.e2e.pictures import demo_server  # noqa: F401
