"""Error handlers: JSON for API clients, HTML pages for browsers; never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from dockdb.errors import DatabaseError, InputError, NotFoundError

log = logging.getLogger(__name__)


def wants_json() -> bool:
    """True for API paths and for clients that prefer JSON to HTML."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes["application/json"] > request.accept_mimetypes["text/html"]
    )


def error_response(status: int, error: str, message: str, parameter: str | None = None) -> tuple[Response, int]:
    """The error as JSON (API and JSON clients) or as the HTML error page, with its status code."""
    if wants_json():
        body: dict[str, object] = {"error": error, "status": status, "message": message}
        if parameter is not None:
            body["parameter"] = parameter
        return jsonify(body), status
    html = render_template("error.html", status=status, error=error, message=message, parameter=parameter)
    return Response(html, status=status, mimetype="text/html"), status


def register_error_handlers(app: Flask) -> None:
    # one error tree: webapp.params' BadParameter and NotFound are an InputError and a NotFoundError
    """Turn input, not-found, HTTP, database and unexpected errors on *app* into error responses."""
    @app.errorhandler(InputError)
    def _input_error(e: InputError) -> tuple[Response, int]:
        parameter = getattr(e, "parameter", None)
        if parameter is not None:
            return error_response(400, "bad_parameter", getattr(e, "message", str(e)), parameter)
        return error_response(400, "bad_input", str(e))

    @app.errorhandler(NotFoundError)
    def _not_found(e: NotFoundError) -> tuple[Response, int]:
        return error_response(404, "not_found", getattr(e, "message", str(e)))

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException) -> tuple[Response, int]:
        status = e.code or 500
        name = (e.name or "error").lower().replace(" ", "_")
        message = e.description or e.name or "error"
        if status == 404:
            message = f"no such page or resource: {request.path[:200]}"
        resp, status = error_response(status, name, message)
        # e.g. 405's Allow (the methods the resource answers) and 416's Content-Range
        for key, value in e.get_headers():
            if key.lower() != "content-type":
                resp.headers[key] = value
        return resp, status

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(DatabaseError)
    def _database(e: Exception) -> tuple[Response, int]:
        log.warning("database error on %s: %s", request.path, e)
        text = str(e).lower()
        if "cancel" in text or "interrupt" in text or "timeout" in text:
            return error_response(503, "query_timeout", "the query took too long; narrow the filters and retry")
        return error_response(503, "database_unavailable", "the database is not available right now; retry later")

    @app.errorhandler(Exception)
    def _unexpected(e: Exception) -> tuple[Response, int]:
        log.exception("unexpected error on %s", request.path)
        return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")
