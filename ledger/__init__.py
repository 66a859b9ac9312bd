"""The Ikrar ledger: an append-only, hash-chained RFC 6962 Merkle log with signed checkpoints.

This package knows nothing of HTTP, PDFs or passphrases, and it is the only package that
touches the database. Its public pieces:

- :mod:`ledger.merkle` — RFC 6962 / RFC 9162 tree hashes, inclusion and consistency proofs;
- :mod:`ledger.note` — C2SP signed notes and verifier keys;
- :mod:`ledger.checkpoint` — C2SP tlog-checkpoints and tlog-proofs;
- :mod:`ledger.entries`, :mod:`ledger.times` — canonical entries and their times;
- :mod:`ledger.kinds` — each entry kind in one module: its fields, its rules, what it derives;
- :mod:`ledger.rules`, :mod:`ledger.state` — asking the kinds' rules; the state they read;
- :mod:`ledger.statements` — the statements officials sign, as the rules verify them;
- :mod:`ledger.store` — the serialized append (`Ledger`), and `Ledger.read()`;
- :mod:`ledger.reader` — `Reader`: named reads over one consistent snapshot, frozen records;
- :mod:`ledger.derived` — the tables derived from the entries (keys, commitments, signatures);
- :mod:`ledger.register` — the register of people and their logins (not on the ledger);
- :mod:`ledger.db`, :mod:`ledger.models`, :mod:`ledger.schema` — engine, tables, migrations;
- :mod:`ledger.audit`, :mod:`ledger.export` — re-verification of a whole ledger, streaming;
  the ledger as files.
"""
