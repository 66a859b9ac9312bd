"""The Ikrar ledger: an append-only, hash-chained RFC 6962 Merkle log with signed checkpoints.

This package knows nothing of HTTP, PDFs or passphrases. Its public pieces:

- :mod:`ledger.merkle` — RFC 6962 / RFC 9162 tree hashes, inclusion and consistency proofs;
- :mod:`ledger.note` — C2SP signed notes and verifier keys;
- :mod:`ledger.checkpoint` — C2SP tlog-checkpoints and tlog-proofs;
- :mod:`ledger.entries` — canonical entries and their kinds;
- :mod:`ledger.store` — storage (SQLite or PostgreSQL) and the serialized append;
- :mod:`ledger.audit` — re-verification of a whole ledger, streaming.
"""
