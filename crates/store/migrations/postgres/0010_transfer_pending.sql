-- A transfer waits in the new community's queue as its own registration (status 'transfer_pending') while the
-- member's accepted registration with the old community stays in force; at most one waiting transfer per member
-- and round, whatever the concurrency.
CREATE UNIQUE INDEX registrations_one_transfer ON registrations(round_id, member_id)
    WHERE status = 'transfer_pending';
