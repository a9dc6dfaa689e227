-- Audit rows are inserted unsealed (no lock, no read of the previous hash); the sealer assigns `seal_seq` and
-- chains them. `prev_hash`/`hash` become nullable, so SQLite rebuilds the table. Existing rows are reset to
-- unsealed: the sealer re-chains them under the new length-prefixed hash input (no deployment existed yet).
CREATE TABLE audit_log_sealed (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_id BIGINT,
    actor TEXT NOT NULL,
    role TEXT,
    place TEXT,
    action TEXT NOT NULL,
    target TEXT,
    result TEXT NOT NULL,
    client_addr TEXT,
    detail TEXT,
    seal_seq BIGINT,
    prev_hash TEXT,
    hash TEXT
);
INSERT INTO audit_log_sealed (id, at, actor_id, actor, role, place, action, target, result, client_addr, detail)
    SELECT id, at, actor_id, actor, role, place, action, target, result, client_addr, detail FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_sealed RENAME TO audit_log;
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor, id);
CREATE UNIQUE INDEX audit_log_seal_seq ON audit_log(seal_seq);
CREATE INDEX audit_log_unsealed ON audit_log(id) WHERE seal_seq IS NULL;

-- Signed statements "the chain up to last_seal_seq has head head_hash", one per sealing round that sealed rows.
CREATE TABLE audit_checkpoints (
    seq INTEGER PRIMARY KEY,
    last_seal_seq BIGINT NOT NULL,
    head_hash TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    at BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
);
