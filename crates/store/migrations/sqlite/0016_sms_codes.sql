-- One-time SMS codes (issue 8.1): when the district's setting activation_sms is on, a member who passed step 1 of
-- the activation gets a 6-digit code by SMS and must enter it before setting the password. Neither the mobile nor
-- the code is stored in clear: mobile_hash and addr_hash are the vault's keyed hashes (purpose "sms"), code_hash
-- is keyed over "<mobile_hash>:<code>" (purpose "sms-code"). A code works once (used_at), until expires_at (5
-- minutes) and for at most 5 wrong entries (attempts). Sending is limited per mobile and per client address by
-- counting these rows, so every instance sharing the database sees the same limits. Rows older than a day are
-- deleted when a new code is sent.
CREATE TABLE sms_codes (
    id INTEGER PRIMARY KEY,
    mobile_hash TEXT NOT NULL,
    addr_hash TEXT,
    purpose TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX sms_codes_mobile ON sms_codes(mobile_hash, created_at);
CREATE INDEX sms_codes_addr ON sms_codes(addr_hash, created_at);
CREATE INDEX sms_codes_created ON sms_codes(created_at);
