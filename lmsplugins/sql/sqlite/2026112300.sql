-- lmsplugins host tables: job run records and small shared state (e.g. provider session ids).
CREATE TABLE IF NOT EXISTS lmsplugins_job_runs (
    id integer PRIMARY KEY AUTOINCREMENT,
    job varchar(100) NOT NULL,
    status varchar(16) NOT NULL DEFAULT 'running',
    test smallint NOT NULL DEFAULT 0,
    started bigint NOT NULL DEFAULT 0,
    finished bigint DEFAULT NULL,
    counters text NOT NULL DEFAULT '{}',
    message text NOT NULL DEFAULT '',
    argv text NOT NULL DEFAULT '',
    host varchar(255) NOT NULL DEFAULT '',
    pid integer NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS lmsplugins_job_runs_job_idx ON lmsplugins_job_runs (job, started);
CREATE TABLE IF NOT EXISTS lmsplugins_state (
    name varchar(100) PRIMARY KEY,
    value text NOT NULL DEFAULT '',
    mtime bigint NOT NULL DEFAULT 0
);
