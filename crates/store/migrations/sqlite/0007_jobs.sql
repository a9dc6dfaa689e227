-- Background jobs run by the job runner (`crates/store/src/jobs.rs`): queued → running → done | failed. A running
-- job holds a lease (`lease_until`) that its worker renews by heartbeat; a job whose lease ran out is interrupted
-- and is retried (status `interrupted`, `run_at` after a backoff) or failed once `attempts` reaches `max_attempts`.
-- `created_by`, `place_path` and `unit_id` are the starter's scope (who may see the job in the admin listing).
-- The PostgreSQL migration has the same tables and columns.

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    -- queued | running | interrupted | done | failed
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL DEFAULT 3,
    run_at BIGINT NOT NULL,
    lease_until BIGINT,
    heartbeat_at BIGINT,
    worker TEXT,
    -- Short, never personal data.
    last_error TEXT,
    created_by BIGINT REFERENCES accounts(id),
    created_by_name TEXT NOT NULL,
    place_path TEXT NOT NULL,
    unit_id BIGINT REFERENCES units(id),
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE INDEX jobs_due ON jobs(status, run_at, id);
CREATE INDEX jobs_lease ON jobs(status, lease_until);
CREATE INDEX jobs_created_by ON jobs(created_by, id);
CREATE INDEX jobs_place_path ON jobs(place_path, id);

-- The uploaded file of a job, encrypted with the vault, in chunks; deleted when the job ends.
CREATE TABLE job_files (
    job_id BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);

-- An import keeps its results (counts, row report) in `imports`; its execution is the linked job.
ALTER TABLE imports ADD COLUMN job_id BIGINT REFERENCES jobs(id);
CREATE INDEX imports_job ON imports(job_id);
