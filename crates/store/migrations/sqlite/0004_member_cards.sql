-- 亮身份: each member's public card is reached through a random, unguessable token (never the member id), issued
-- the first time an accepted member's card is shown. Whether the card is public is `members.card_public`, which
-- the member switches. The PostgreSQL and SQLite migrations have the same columns.
CREATE TABLE member_cards (
    member_id BIGINT PRIMARY KEY REFERENCES members(id),
    token TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
