-- Indexes on two CORE LMS tables, for every panel that lists a customer's MACs or network devices
-- (the Wildcore card and feed first): LMS's PostgreSQL schema has no index on macs.nodeid nor on
-- netdevices.ownerid, so those lookups scanned both tables (about 90 ms at 100,000 customers).
-- Core-table indexes belong to the host, not to a plugin: Wildcore's 2026120700 step created them as
-- wildcore_*_idx on databases migrated before this step; those are renamed, not doubled. Our own
-- names, so an LMS upgrade adding its own does not clash; dropping them is always safe.
ALTER INDEX IF EXISTS wildcore_macs_nodeid_idx RENAME TO lmsplugins_macs_nodeid_idx;
ALTER INDEX IF EXISTS wildcore_netdevices_ownerid_idx RENAME TO lmsplugins_netdevices_ownerid_idx;
CREATE INDEX IF NOT EXISTS lmsplugins_macs_nodeid_idx ON macs (nodeid);
CREATE INDEX IF NOT EXISTS lmsplugins_netdevices_ownerid_idx ON netdevices (ownerid);
