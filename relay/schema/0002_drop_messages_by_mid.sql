-- securechat relay schema, version 2: drop the index of messages by mid.
-- Acknowledgements delete by seq (the relay knows it for the messages it pushed) or by
-- (rid, mid) through messages_by_queue; the mid index only cost every SEND and ACK a
-- random B-tree update.

DROP INDEX IF EXISTS messages_by_mid;
