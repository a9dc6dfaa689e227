-- Bulk imports (members / units) run as background jobs; the row report is kept as JSON text.
-- The PostgreSQL migration has the same tables and columns.

CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    -- queued | running | done | failed
    status TEXT NOT NULL,
    total_rows BIGINT NOT NULL DEFAULT 0,
    processed_rows BIGINT NOT NULL DEFAULT 0,
    inserted BIGINT NOT NULL DEFAULT 0,
    skipped BIGINT NOT NULL DEFAULT 0,
    error_rows BIGINT NOT NULL DEFAULT 0,
    report TEXT,
    valid_only BOOLEAN NOT NULL DEFAULT FALSE,
    created_by BIGINT REFERENCES accounts(id),
    created_by_name TEXT NOT NULL,
    -- The uploader's scope: a place path, or '' with unit_id for a unit admin.
    place_path TEXT NOT NULL,
    unit_id BIGINT REFERENCES units(id),
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX imports_created_by ON imports(created_by, id);
CREATE INDEX imports_place_path ON imports(place_path, id);
