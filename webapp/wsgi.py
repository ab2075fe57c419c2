"""WSGI entry point for gunicorn: ``gunicorn webapp.wsgi:app``.

This module builds the app when imported, which is its whole purpose; nothing else in
the package has import side effects.
"""

from __future__ import annotations

from webapp import create_app

app = create_app()
