-- securechat relay schema, version 1.
-- Ciphertext and keys only: no client addresses, no user names, coarse timestamps
-- (queues and publications: day; messages: second, needed for the TTL and deleted with them).

CREATE TABLE queues (
    rid     BLOB PRIMARY KEY,           -- recipient id (random, 16 bytes)
    sid     BLOB NOT NULL UNIQUE,       -- sender id (random, unrelated to rid)
    rkey    BLOB NOT NULL,              -- recipient Ed25519 public key
    skey    BLOB,                       -- sender Ed25519 public key, once secured
    created INTEGER NOT NULL            -- unix time rounded down to the day
) WITHOUT ROWID;

CREATE TABLE messages (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,  -- store order
    rid  BLOB NOT NULL,
    mid  BLOB NOT NULL,                      -- random message id
    ts   INTEGER NOT NULL,                   -- unix seconds, for the TTL
    body BLOB NOT NULL                       -- opaque ciphertext
);
CREATE UNIQUE INDEX messages_by_queue ON messages (rid, seq);
CREATE INDEX messages_by_mid ON messages (mid);
CREATE INDEX messages_by_ts ON messages (ts);

CREATE TABLE publications (
    pid     BLOB PRIMARY KEY,           -- random address
    pkey    BLOB NOT NULL,              -- publisher Ed25519 public key
    blob    BLOB NOT NULL,              -- opaque signed publication
    summary BLOB,                       -- opaque directory summary; NULL = not listed
    updated INTEGER NOT NULL            -- unix time rounded down to the day
) WITHOUT ROWID;

CREATE TABLE prekeys (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    pid    BLOB NOT NULL,
    prekey BLOB NOT NULL                -- opaque one-time prekey, handed out once
);
CREATE INDEX prekeys_by_pub ON prekeys (pid, id);
