-- Login state shared by every app instance (issues 6.6, 7.4): failed logins per login name and per client
-- address. A row is keyed by a keyed hash (the vault's search key, purpose "login-attempt") of "acct:<id>" for an
-- account, "name:<identifier>" for a login name no account has, or "addr:<ip>" for a client address, so neither
-- a typed name nor an address is stored. Account and unknown name follow the same lockout rule
-- (crates/domain/src/password.rs, `Attempts`). The lockout columns of `accounts` move here; a lockout in progress
-- at upgrade time ends. The SQLite and PostgreSQL migrations have the same tables and columns.
CREATE TABLE login_attempts (
    key_hash TEXT PRIMARY KEY,
    account_id BIGINT REFERENCES accounts(id),
    failures BIGINT NOT NULL,
    first_failed_at BIGINT NOT NULL,
    last_failed_at BIGINT NOT NULL,
    locked_until BIGINT
);
CREATE INDEX login_attempts_account ON login_attempts(account_id);
CREATE INDEX login_attempts_last ON login_attempts(last_failed_at);

ALTER TABLE accounts DROP COLUMN failed_logins;
ALTER TABLE accounts DROP COLUMN locked_until;

-- The last TOTP time step accepted for the account: a step at or below it is refused (a code works once).
ALTER TABLE accounts ADD COLUMN totp_last_step BIGINT;
