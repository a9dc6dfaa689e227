-- Getting in (issue 8.1): a member activates their own account from the roster with name + mobile + the last six
-- characters of their ID number or a one-time activation code printed on their unit's or community's sheet.
-- One current code per member: issuing again replaces the row, so the older code stops working. Only a keyed hash
-- of the code is stored (the vault's search key, purpose "activation-code", over "<member id>:<code>"); the code
-- itself is shown once, on the sheet. Failed attempts are counted in login_attempts under keys of their own
-- (purpose "activation"), per mobile and per client address.
CREATE TABLE activation_codes (
    member_id BIGINT PRIMARY KEY REFERENCES members(id),
    code_hash TEXT NOT NULL,
    issued_by BIGINT REFERENCES accounts(id),
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- At most one account is bound to a member record (an activation racing another ends as already_activated).
CREATE UNIQUE INDEX accounts_member ON accounts(member_id);
