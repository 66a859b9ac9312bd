"""Officials' keys, the statements they sign, and certificates. Knows nothing of HTTP.

- :mod:`signing.keystore` — Ed25519 keys encrypted at rest (PKCS#8, PBES2, slow KDF);
- :mod:`signing.statement` — the exact text an official signs, and its verification;
- :mod:`signing.actions` — enrol, publish, sign, revoke: ledger appends with keys.
"""
