-- Indexes on two CORE LMS tables (see postgresql/2026120701.sql): macs.nodeid and netdevices.ownerid.
-- InnoDB indexes a foreign key's column by itself, so LMS's MySQL schema normally has both already;
-- an installation whose tables predate those foreign keys (MyISAM days) has neither. Each index is
-- therefore created only when no index of the table starts with that column, never as a duplicate.
SET @lmsplugins_ddl = IF(
    EXISTS(SELECT 1 FROM information_schema.statistics
           WHERE table_schema = DATABASE() AND table_name = 'macs' AND column_name = 'nodeid' AND seq_in_index = 1),
    'DO 0', 'CREATE INDEX IF NOT EXISTS lmsplugins_macs_nodeid_idx ON macs (nodeid)');
PREPARE lmsplugins_stmt FROM @lmsplugins_ddl;
EXECUTE lmsplugins_stmt;
DEALLOCATE PREPARE lmsplugins_stmt;
SET @lmsplugins_ddl = IF(
    EXISTS(SELECT 1 FROM information_schema.statistics
           WHERE table_schema = DATABASE() AND table_name = 'netdevices' AND column_name = 'ownerid'
             AND seq_in_index = 1),
    'DO 0', 'CREATE INDEX IF NOT EXISTS lmsplugins_netdevices_ownerid_idx ON netdevices (ownerid)');
PREPARE lmsplugins_stmt FROM @lmsplugins_ddl;
EXECUTE lmsplugins_stmt;
DEALLOCATE PREPARE lmsplugins_stmt;
