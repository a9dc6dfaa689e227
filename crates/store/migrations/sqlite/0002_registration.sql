-- 报到接收: registration rounds, member and unit registrations with their history, resources, grid partners,
-- alliances, pairing agreements and joint projects. Dates are 'YYYY-MM-DD' text; times are UTC milliseconds.
-- The PostgreSQL migration has the same tables and columns. Nothing here is ever deleted to change a status:
-- withdrawal, expiry and transfers are new statuses plus rows in registration_events.

CREATE TABLE rounds (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    year BIGINT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    closed_at BIGINT
);
-- At most one open round at any time.
CREATE UNIQUE INDEX rounds_one_open ON rounds(status) WHERE status = 'open';

CREATE TABLE registrations (
    id INTEGER PRIMARY KEY,
    round_id BIGINT NOT NULL REFERENCES rounds(id),
    member_id BIGINT NOT NULL REFERENCES members(id),
    community_id BIGINT NOT NULL REFERENCES places(id),
    grid_id BIGINT REFERENCES places(id),
    -- The community's path while pending; the grid's path once placed in a grid.
    place_path TEXT NOT NULL,
    status TEXT NOT NULL,
    skills TEXT NOT NULL DEFAULT '',
    intentions TEXT NOT NULL DEFAULT '',
    availability TEXT NOT NULL DEFAULT '',
    return_reason TEXT,
    receipt_no TEXT UNIQUE,
    carried_from BIGINT REFERENCES registrations(id),
    transferred_from BIGINT REFERENCES registrations(id),
    submitted_at BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by TEXT,
    updated_at BIGINT NOT NULL
);
-- One active registration per member and round, whatever the concurrency.
CREATE UNIQUE INDEX registrations_one_active ON registrations(round_id, member_id)
    WHERE status IN ('submitted', 'accepted', 'carried');
CREATE INDEX registrations_place_path ON registrations(place_path, id);
CREATE INDEX registrations_member ON registrations(member_id, round_id);
CREATE INDEX registrations_round_status ON registrations(round_id, status);
CREATE INDEX registrations_carried_from ON registrations(carried_from);

CREATE TABLE registration_events (
    id INTEGER PRIMARY KEY,
    registration_id BIGINT NOT NULL REFERENCES registrations(id),
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    note TEXT
);
CREATE INDEX registration_events_registration ON registration_events(registration_id, id);

CREATE TABLE unit_registrations (
    id INTEGER PRIMARY KEY,
    round_id BIGINT NOT NULL REFERENCES rounds(id),
    unit_id BIGINT NOT NULL REFERENCES units(id),
    place_id BIGINT NOT NULL REFERENCES places(id),
    place_path TEXT NOT NULL,
    status TEXT NOT NULL,
    contact_name TEXT NOT NULL,
    contact_phone_enc TEXT,
    contact_phone_masked TEXT,
    note TEXT,
    return_reason TEXT,
    submitted_at BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by TEXT,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX unit_registrations_one_active ON unit_registrations(round_id, unit_id, place_id)
    WHERE status IN ('submitted', 'accepted');
CREATE INDEX unit_registrations_place_path ON unit_registrations(place_path, id);
CREATE INDEX unit_registrations_unit ON unit_registrations(unit_id, round_id);

CREATE TABLE resources (
    id INTEGER PRIMARY KEY,
    unit_id BIGINT NOT NULL REFERENCES units(id),
    unit_registration_id BIGINT REFERENCES unit_registrations(id),
    -- Where the resource is offered: the unit registration's place, else the unit's own place.
    place_path TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    capacity BIGINT NOT NULL,
    schedule TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX resources_unit ON resources(unit_id, id);
CREATE INDEX resources_place_path ON resources(place_path, id);

CREATE TABLE grid_partners (
    id INTEGER PRIMARY KEY,
    unit_id BIGINT NOT NULL REFERENCES units(id),
    grid_id BIGINT NOT NULL REFERENCES places(id),
    place_path TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (unit_id, grid_id)
);
CREATE INDEX grid_partners_place_path ON grid_partners(place_path, id);

CREATE TABLE alliances (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    town_id BIGINT NOT NULL REFERENCES places(id),
    place_path TEXT NOT NULL,
    description TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (town_id, name)
);
CREATE INDEX alliances_place_path ON alliances(place_path, id);

CREATE TABLE alliance_units (
    alliance_id BIGINT NOT NULL REFERENCES alliances(id),
    unit_id BIGINT NOT NULL REFERENCES units(id),
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (alliance_id, unit_id)
);
CREATE INDEX alliance_units_unit ON alliance_units(unit_id);

CREATE TABLE pairings (
    id INTEGER PRIMARY KEY,
    unit_id BIGINT NOT NULL REFERENCES units(id),
    community_id BIGINT NOT NULL REFERENCES places(id),
    place_path TEXT NOT NULL,
    term_start TEXT NOT NULL,
    term_end TEXT NOT NULL,
    -- JSON, e.g. {"activities_per_quarter":2,"note":null}
    targets TEXT NOT NULL,
    signed_on TEXT,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX pairings_place_path ON pairings(place_path, id);
CREATE INDEX pairings_unit ON pairings(unit_id, id);

CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    pairing_id BIGINT REFERENCES pairings(id),
    unit_id BIGINT NOT NULL REFERENCES units(id),
    community_id BIGINT NOT NULL REFERENCES places(id),
    place_path TEXT NOT NULL,
    goals TEXT,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    grade TEXT,
    graded_at BIGINT,
    graded_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX projects_place_path ON projects(place_path, id);
CREATE INDEX projects_unit ON projects(unit_id, id);
CREATE INDEX projects_pairing ON projects(pairing_id);

CREATE TABLE project_activities (
    id INTEGER PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    title TEXT NOT NULL,
    planned_on TEXT NOT NULL,
    done_on TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX project_activities_project ON project_activities(project_id, planned_on);
