-- What the PHP plugin's doc/lms.mysql means to install (the original fails: it calls PostgreSQL's
-- currval()), made re-runnable, with its defects fixed:
-- * nothing is inserted twice (an installation where the PHP plugin ran is taken over as it is);
-- * the tariff is named "METROPORT MVNO" (the PHP script wrote "METROPOPRT"), with the 23% tax
--   valid today, and only when no tariff carries the tag yet;
-- * the credential rows are seeded DISABLED and empty (spec 8.1): LMS lets an enabled uiconfig row
--   override lms.ini, so the PHP placeholders 'api_login'/'api_password' silently replaced the real
--   credentials the INSTALL guide told operators to put in lms.ini. Disabled rows are listed in LMS's
--   configuration screen (enable them to keep credentials in the database) and override nothing.
-- dbinfo is written by the migration runner in the same transaction.
INSERT INTO serviceproviders (name)
SELECT 'Metroport MVNO' FROM DUAL
WHERE NOT EXISTS (SELECT 1 FROM serviceproviders WHERE name = 'Metroport MVNO');

INSERT INTO tarifftags (name)
SELECT 'metroport-mvno' FROM DUAL
WHERE NOT EXISTS (SELECT 1 FROM tarifftags WHERE LOWER(name) = 'metroport-mvno');

INSERT INTO tariffs (name, type, taxid, description)
SELECT 'METROPORT MVNO', 4, t.id, '' FROM taxes t
WHERE t.value = 23.0
  AND t.validfrom <= UNIX_TIMESTAMP()
  AND (t.validto = 0 OR t.validto >= UNIX_TIMESTAMP())
  AND NOT EXISTS (
    SELECT 1 FROM tariffassignments ta JOIN tarifftags g ON g.id = ta.tarifftagid
    WHERE LOWER(g.name) = 'metroport-mvno')
  AND NOT EXISTS (SELECT 1 FROM tariffs WHERE name IN ('METROPORT MVNO', 'METROPOPRT MVNO') AND type = 4)
ORDER BY t.id
LIMIT 1;

INSERT INTO tariffassignments (tariffid, tarifftagid)
SELECT tt.id, g.id FROM tariffs tt, tarifftags g
WHERE tt.name = 'METROPORT MVNO' AND tt.type = 4 AND g.name = 'metroport-mvno'
  AND NOT EXISTS (SELECT 1 FROM tariffassignments WHERE tariffid = tt.id AND tarifftagid = g.id);

INSERT INTO uiconfig (section, var, value, description, disabled)
SELECT 'metroportmvno', v.var, v.value, v.description, v.disabled
FROM (
    SELECT 'api_url' AS var, 'https://api.mmsc.metroport.pl' AS value, 'Metroport MMSC API base URL' AS description,
        0 AS disabled
    UNION ALL SELECT 'api_login', '', 'Metroport API login (enable this row to keep it here instead of lms.ini)', 1
    UNION ALL SELECT 'api_password', '', 'Metroport API password (enable this row to keep it here instead of lms.ini)', 1
    UNION ALL SELECT 'tariff_tag', 'metroport-mvno', 'Tag of the tariffs whose customers get MVNO billing records', 0
) v
WHERE NOT EXISTS (
    SELECT 1 FROM uiconfig u
    WHERE u.section = 'metroportmvno' AND u.var = v.var AND u.userid IS NULL AND u.divisionid IS NULL);
