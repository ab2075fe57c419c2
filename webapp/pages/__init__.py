"""HTML pages (routes in :mod:`webapp.pages.routes`, templates under ``webapp/templates``)."""

from __future__ import annotations

from webapp.pages.routes import bp

__all__ = ["bp"]
