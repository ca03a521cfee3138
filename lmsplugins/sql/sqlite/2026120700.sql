-- What a job run printed (the last part, bounded by the job runner), and its exit code, for the job detail
-- page (the command line, secrets masked, stays in lmsplugins_job_runs.argv). A table of its own, one row per run, so the job
-- list and the monitoring queries never read the output.
CREATE TABLE IF NOT EXISTS lmsplugins_job_output (
    run_id integer PRIMARY KEY,
    exit_code smallint DEFAULT NULL,
    truncated smallint NOT NULL DEFAULT 0,
    output text NOT NULL DEFAULT ''
);
