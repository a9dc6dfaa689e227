-- Foundation: places, organisations, people, dictionaries, accounts, sessions, audit log.
-- Times are UTC milliseconds since the epoch (BIGINT). The PostgreSQL migration has the same tables and columns.

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE places (
    id INTEGER PRIMARY KEY,
    parent_id BIGINT REFERENCES places(id),
    level TEXT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    party_org_name TEXT,
    party_org_level TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX places_parent ON places(parent_id, name);
CREATE INDEX places_level_name ON places(level, name);

CREATE TABLE dict_entries (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    sort BIGINT NOT NULL DEFAULT 100,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    UNIQUE (kind, code)
);

CREATE TABLE units (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    credit_code TEXT NOT NULL UNIQUE,
    place_id BIGINT NOT NULL REFERENCES places(id),
    place_path TEXT NOT NULL,
    party_org_name TEXT NOT NULL,
    party_org_level TEXT NOT NULL,
    contact_name TEXT,
    contact_phone_enc TEXT,
    contact_phone_masked TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX units_place_path ON units(place_path, id);
CREATE INDEX units_name ON units(name);

CREATE TABLE members (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    mobile_enc TEXT NOT NULL,
    mobile_hash TEXT NOT NULL UNIQUE,
    mobile_masked TEXT NOT NULL,
    id_card_enc TEXT,
    id_card_hash TEXT UNIQUE,
    id_card_masked TEXT,
    unit_id BIGINT NOT NULL REFERENCES units(id),
    community_id BIGINT NOT NULL REFERENCES places(id),
    grid_id BIGINT REFERENCES places(id),
    place_path TEXT NOT NULL,
    separated_residence BOOLEAN NOT NULL DEFAULT FALSE,
    card_public BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX members_place_path ON members(place_path, id);
CREATE INDEX members_unit ON members(unit_id, id);
CREATE INDEX members_name ON members(name);

CREATE TABLE member_skills (
    member_id BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    skill TEXT NOT NULL,
    PRIMARY KEY (member_id, skill)
);
CREATE INDEX member_skills_skill ON member_skills(skill, member_id);

CREATE TABLE social_orgs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    credit_code TEXT NOT NULL UNIQUE,
    place_id BIGINT NOT NULL REFERENCES places(id),
    place_path TEXT NOT NULL,
    contact_name TEXT,
    contact_phone_enc TEXT,
    contact_phone_masked TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX social_orgs_place_path ON social_orgs(place_path, id);

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    mobile_enc TEXT,
    mobile_hash TEXT UNIQUE,
    password_hash TEXT NOT NULL,
    password_changed_at BIGINT NOT NULL,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    totp_secret_enc TEXT,
    totp_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    member_id BIGINT REFERENCES members(id),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE role_assignments (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    role TEXT NOT NULL,
    place_id BIGINT REFERENCES places(id),
    unit_id BIGINT REFERENCES units(id),
    member_id BIGINT REFERENCES members(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX role_assignments_account ON role_assignments(account_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    role_assignment_id BIGINT REFERENCES role_assignments(id),
    kind TEXT NOT NULL,
    stage TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_account ON sessions(account_id);

CREATE TABLE audit_log (
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
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor, id);
