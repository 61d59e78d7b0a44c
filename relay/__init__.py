"""The securechat relay: a content-blind store-and-forward server of message queues.

`relay.protocol` (the wire contract) and `relay.client` (a thin client) are what clients
import; everything else here is the server: `mailbox` (pure queue logic), `store` (storage
behind one interface, SQLite by default), `server` (aiohttp transport), `config`, `cli`.
`relay.exceptions` holds the one exception tree. This package never imports Qt, SQLCipher,
keyring or any client code.
"""
