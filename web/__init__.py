"""The shells over `ledger` and `signing`: the FastAPI app, its pages, and the `ikrar` command."""
