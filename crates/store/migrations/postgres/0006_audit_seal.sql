-- Audit rows are inserted unsealed (no lock, no read of the previous hash); the sealer assigns `seal_seq` and
-- chains them. Existing rows are reset to unsealed: the sealer re-chains them under the new length-prefixed hash
-- input (no deployment existed yet).
ALTER TABLE audit_log
    ALTER COLUMN prev_hash DROP NOT NULL,
    ALTER COLUMN hash DROP NOT NULL,
    ADD COLUMN seal_seq BIGINT;
UPDATE audit_log SET prev_hash = NULL, hash = NULL;
CREATE UNIQUE INDEX audit_log_seal_seq ON audit_log(seal_seq);
CREATE INDEX audit_log_unsealed ON audit_log(id) WHERE seal_seq IS NULL;

-- Signed statements "the chain up to last_seal_seq has head head_hash", one per sealing round that sealed rows.
CREATE TABLE audit_checkpoints (
    seq BIGINT PRIMARY KEY,
    last_seal_seq BIGINT NOT NULL,
    head_hash TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    at BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
);
