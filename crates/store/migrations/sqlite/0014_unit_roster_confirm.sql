-- A unit's roster changes only with the unit: a member whose home unit was named by a town or community waits
-- for the unit's admin (unit_confirmed false) and does not count for the unit until confirmed. Declining keeps
-- the member record with its residence but takes it off the unit's roster (unit_declined_at). Existing members
-- stay confirmed.
ALTER TABLE members ADD COLUMN unit_confirmed BOOLEAN NOT NULL DEFAULT TRUE;
-- Who named the unit (the place of the writer's role binding, e.g. 甲一村) and when; NULL for links written
-- confirmed.
ALTER TABLE members ADD COLUMN unit_proposed_by TEXT;
ALTER TABLE members ADD COLUMN unit_proposed_at BIGINT;
ALTER TABLE members ADD COLUMN unit_declined_at BIGINT;
