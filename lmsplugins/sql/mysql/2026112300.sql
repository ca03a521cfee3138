-- lmsplugins host tables: job run records and small shared state (e.g. provider session ids).
CREATE TABLE IF NOT EXISTS lmsplugins_job_runs (
    id int(11) NOT NULL AUTO_INCREMENT,
    job varchar(100) NOT NULL,
    status varchar(16) NOT NULL DEFAULT 'running',
    test smallint NOT NULL DEFAULT 0,
    started bigint NOT NULL DEFAULT 0,
    finished bigint DEFAULT NULL,
    counters text NOT NULL,
    message text NOT NULL,
    argv text NOT NULL,
    host varchar(255) NOT NULL DEFAULT '',
    pid int(11) NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    KEY lmsplugins_job_runs_job_idx (job, started)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS lmsplugins_state (
    name varchar(100) NOT NULL,
    value text NOT NULL,
    mtime bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
