-- Wildcore plugin tables (see plugins/wildcore/tables.py). dbinfo is written by the migration runner.
CREATE TABLE IF NOT EXISTS wildcore_onus (
    id SERIAL PRIMARY KEY,
    customerid integer NOT NULL REFERENCES customers (id) ON DELETE CASCADE ON UPDATE CASCADE,
    ident varchar(64) NOT NULL,
    description varchar(255) NOT NULL DEFAULT '',
    UNIQUE (customerid, ident)
);
CREATE INDEX IF NOT EXISTS wildcore_onus_ident_idx ON wildcore_onus (UPPER(ident));

CREATE TABLE IF NOT EXISTS wildcore_misses (
    id SERIAL PRIMARY KEY,
    customerid integer NOT NULL REFERENCES customers (id) ON DELETE CASCADE ON UPDATE CASCADE,
    target varchar(128) NOT NULL,
    reason varchar(255) NOT NULL DEFAULT '',
    seen bigint NOT NULL DEFAULT 0,
    UNIQUE (customerid, target)
);

-- LMS's PostgreSQL schema has no index on macs.nodeid nor on netdevices.ownerid (MySQL gets both with
-- their foreign keys), so the customer card's lookups of a customer's MACs and ONUs scanned both tables
-- (about 90 ms at 100,000 customers). Our own names, so an LMS upgrade adding its own does not clash.
CREATE INDEX IF NOT EXISTS wildcore_macs_nodeid_idx ON macs (nodeid);
CREATE INDEX IF NOT EXISTS wildcore_netdevices_ownerid_idx ON netdevices (ownerid);
