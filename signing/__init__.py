"""Officials' keys, the statements they sign, and certificates. Knows nothing of HTTP.

- :mod:`signing.keystore` — Ed25519 keys encrypted at rest (PKCS#8, PBES2, slow KDF);
- :mod:`signing.statement` — the statement an official signs, from the signing side;
- :mod:`signing.actions` — register, enrol, publish, sign, revoke: ledger appends with keys;
- :mod:`signing.facts` — what a signature certificate states, gathered from its four entries;
- :mod:`signing.certificate` — the certificate file: its attachments and the public entry points;
- :mod:`signing.cert_words`, :mod:`signing.cert_layout`, :mod:`signing.cert_draw` — a
  certificate's wording, its page layout, and the drawing of it;
- :mod:`signing.summary` — the summary document of a commitment;
- :mod:`signing.verify_cert` — offline verification of a certificate PDF, and its check against a ledger;
- :mod:`signing.verify_entry` — online verification of a signature entry (the QR code's page);
- :mod:`signing.checks`, :mod:`signing.wording` — the steps and findings of a verification; words and WIB times.
"""
