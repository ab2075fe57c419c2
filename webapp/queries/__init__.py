"""Read-only query functions shared by the HTML pages and the JSON API.

Each takes a SQLAlchemy session and plain arguments and returns plain data
(dicts, lists, dataclasses), so pages and API serialise the same thing.
"""
