"""Built-in TLS: the server's SSL context from a PEM certificate chain and key.

Loading happens before the relay opens its store or listens, and every failure says which
file is wrong and how. It never prompts: OpenSSL asks for a passphrase on the terminal when
it meets an encrypted key and no password callback, which under systemd hangs or reads
garbage, so an encrypted key is refused instead.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from relay.exceptions import ConfigError

__all__ = ["load_tls_context"]


class _Encrypted(Exception):
    """Raised by the password callback: the key wants a passphrase."""


def _no_passphrase() -> bytes:
    raise _Encrypted


def load_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server context (TLS 1.2 or newer) serving `cert` with `key`.

    Raises:
        ConfigError: a file cannot be read, is not PEM of the right kind, the key is
            encrypted with a passphrase, or the key does not match the certificate.
    """
    for path, what in ((cert, "certificate"), (key, "key")):
        try:
            with open(path, "rb") as fh:
                fh.read(1)
        except OSError as exc:
            raise ConfigError(f"cannot read the TLS {what} {path}: {exc.strerror}") from None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cert, key, password=_no_passphrase)
    except _Encrypted:
        raise ConfigError(
            f"the TLS key {key} is encrypted with a passphrase; give an unencrypted key"
        ) from None
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise ConfigError(f"the TLS key {key} does not match the certificate {cert}") from None
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_verify_locations(cafile=cert)
        except ssl.SSLError:
            raise ConfigError(
                f"cannot read the TLS certificate {cert}: not a PEM certificate"
            ) from None
        raise ConfigError(f"cannot read the TLS key {key}: not a PEM private key") from None
    except OSError as exc:  # the files changed since they were read
        raise ConfigError(f"cannot read the TLS certificate or key: {exc.strerror}") from None
    return ctx
