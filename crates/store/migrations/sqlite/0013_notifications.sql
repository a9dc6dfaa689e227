-- A small inbox (消息): a note for a member (every account acting for that member sees it) or for one account.
-- Issue 9 adds more kinds; today `registration_reminder` (提醒报到). Read once opened or marked; never deleted.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    recipient_member_id BIGINT REFERENCES members(id),
    recipient_account_id BIGINT REFERENCES accounts(id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    link TEXT,
    created_at BIGINT NOT NULL,
    read_at BIGINT,
    CHECK (recipient_member_id IS NOT NULL OR recipient_account_id IS NOT NULL)
);
CREATE INDEX notifications_member ON notifications(recipient_member_id, id);
CREATE INDEX notifications_account ON notifications(recipient_account_id, id);

-- When a member was last reminded of a kind: the 24 h throttle, shared by every instance. A reminder is an upsert
-- guarded by `last_at <= now - 24 h`; a guard that matched nothing means "reminded recently".
CREATE TABLE member_reminders (
    member_id BIGINT NOT NULL REFERENCES members(id),
    kind TEXT NOT NULL,
    last_at BIGINT NOT NULL,
    PRIMARY KEY (member_id, kind)
);
