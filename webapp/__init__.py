"""The DockDB portal: a Flask app (HTML pages + JSON API) that only reads the database.

Build it with :func:`create_app`; nothing happens at import time.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response

from dockdb.config import Config


def create_app(config: Config | None = None) -> Flask:
    """The portal for *config* (default: ``Config.load()`` from the environment)."""
    from webapp.api import bp as api_bp
    from webapp.api.validation import bp as validation_api_bp
    from webapp.errors import register_error_handlers
    from webapp.extensions import portal_db
    from webapp.pages import bp as pages_bp
    from webapp.pages.assets import VIEWER_JS, viewer_available
    from webapp.pages.validation import bp as validation_bp
    from webapp.responses import format_number, structure_ref

    config = config if config is not None else Config.load()
    app = Flask(__name__, static_folder="static", template_folder="templates")
    production = config.env == "production"
    app.config.update(
        SECRET_KEY=config.secret_key or secrets.token_hex(32),
        DEBUG=False if production else app.config.get("DEBUG", False),
        TESTING=config.env == "testing",
        MAX_CONTENT_LENGTH=config.max_upload_bytes,
        JSON_SORT_KEYS=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=production,
        DOCKDB_ENV=config.env,
        DOCKDB_VIEWER_JS=str(VIEWER_JS),
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    portal_db.init_app(app, config)
    app.register_blueprint(api_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(validation_bp)
    app.register_blueprint(validation_api_bp)
    register_error_handlers(app)
    app.jinja_env.globals["viewer_available"] = viewer_available
    app.jinja_env.globals["num"] = format_number
    app.jinja_env.globals["structure_ref"] = structure_ref
    app.after_request(_security_headers)
    return app


def _security_headers(resp: Response) -> Response:
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    resp.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    )
    return resp


__all__ = ["create_app"]
