"""End-to-end cryptography for securechat.

Keys, X3DH session setup, the Double Ratchet adapter, envelopes and padding, safety numbers,
signed documents and the passphrase KDF. Pure functions and value types on PyNaCl (and the
maintained `doubleratchet` package): no I/O, no logging of secrets, no imports from the rest of
the app. Every call is synchronous and CPU-bound (microseconds to milliseconds).

Where to start (the byte formats are in `docs/protocol-crypto.md`):

- `crypto.keys`: `IdentityKeyPair`, `IdentityPublicKey`, `X25519KeyPair`, `X25519PublicKey`.
- `crypto.x3dh`: `PrekeyStore` (responder's prekeys: rotate, prune, refill), `PrekeyBundle`.
- `crypto.session`: `Session.initiate`, `Session.respond`, `encrypt`, `decrypt`, `to_bytes`.
- `crypto.envelope`: the payload types (`Text`, `SessionSummary`, `ConsentPayload`, `Receipt`,
  `Control`, `Introduction`), `Envelope.parse` for routing.
- `crypto.documents`: signed publications and counter-signed consent records.
- `crypto.safety`: `safety_number`, `qr_payload`, `qr_payload_matches`.
- `crypto.passphrase`: Argon2id.
- `crypto.errors`: the exception tree.
"""
