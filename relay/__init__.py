"""The securechat relay: a content-blind store-and-forward server of message queues.

`relay.protocol` is the wire contract that clients import; everything else here is the
server. This package never imports Qt, SQLCipher, keyring or any client code.
"""
