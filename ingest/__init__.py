"""Loading public sources and user libraries into DockDB (see ingest.runner.ingest_all)."""
