"""Settings: relay, language, auto-lock, retention, remembering, passphrase."""
