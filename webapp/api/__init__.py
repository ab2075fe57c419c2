"""The JSON API under ``/api/v1`` (routes in :mod:`webapp.api.routes`)."""

from __future__ import annotations

from webapp.api.routes import bp

__all__ = ["bp"]
