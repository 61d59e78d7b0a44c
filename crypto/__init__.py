"""End-to-end cryptography for securechat.

Keys, X3DH session setup, the Double Ratchet adapter, envelopes and padding, safety numbers,
signed documents and the passphrase KDF. Pure functions and value types on PyNaCl: no I/O,
no logging of secrets, no imports from the rest of the app.
"""
