"""Loading public sources and user libraries into DockDB (see ingest.steps.ingest_all)."""
