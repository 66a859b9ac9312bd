"""Officials' keys, the statements they sign, and certificates. Knows nothing of HTTP.

- :mod:`signing.keystore` — Ed25519 keys encrypted at rest (PKCS#8, PBES2, slow KDF);
- :mod:`signing.statement` — the exact text an official signs, and its verification;
- :mod:`signing.actions` — enrol, publish, sign, revoke: ledger appends with keys;
- :mod:`signing.facts` — what a signature certificate states, gathered from its four entries;
- :mod:`signing.certificate` — the A4 certificate PDF (QR code, attached evidence) and the summary;
- :mod:`signing.verify_cert` — offline verification of a certificate PDF, and its check against a ledger;
- :mod:`signing.verify_entry` — online verification of a signature entry (the QR code's page);
- :mod:`signing.checks`, :mod:`signing.wording` — findings of a verification; words and WIB times.
"""
