"""Alembic migration scripts for the DockDB schema (see dockdb.migrate)."""
