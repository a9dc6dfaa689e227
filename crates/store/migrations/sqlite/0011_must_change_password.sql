-- Whoever was given a password by someone else (an account created or reset by the security admin) changes it at
-- the next login.
ALTER TABLE accounts ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
