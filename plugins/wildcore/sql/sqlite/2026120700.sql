-- Wildcore plugin tables (see plugins/wildcore/tables.py). dbinfo is written by the migration runner.
CREATE TABLE IF NOT EXISTS wildcore_onus (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customerid INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE ON UPDATE CASCADE,
    ident VARCHAR(64) NOT NULL,
    description VARCHAR(255) NOT NULL DEFAULT '',
    UNIQUE (customerid, ident)
);
CREATE INDEX IF NOT EXISTS wildcore_onus_ident_idx ON wildcore_onus (UPPER(ident));

CREATE TABLE IF NOT EXISTS wildcore_misses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customerid INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE ON UPDATE CASCADE,
    target VARCHAR(128) NOT NULL,
    reason VARCHAR(255) NOT NULL DEFAULT '',
    seen BIGINT NOT NULL DEFAULT 0,
    UNIQUE (customerid, target)
);
