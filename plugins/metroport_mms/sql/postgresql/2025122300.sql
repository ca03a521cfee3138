-- LMSMetroportPlugin upgrade 2025122300: the lock flags of the pairing and the two billing settings.
ALTER TABLE metroport_customers ADD COLUMN IF NOT EXISTS metrotv_suspend smallint DEFAULT 0 NOT NULL;
ALTER TABLE metroport_customers ADD COLUMN IF NOT EXISTS metrotv_suspend_billing smallint DEFAULT 0 NOT NULL;
ALTER TABLE metroport_customers ADD COLUMN IF NOT EXISTS metro_fsecure_suspend smallint DEFAULT 0 NOT NULL;
ALTER TABLE metroport_customers ADD COLUMN IF NOT EXISTS metro_fsecure_suspend_billing smallint DEFAULT 0 NOT NULL;

INSERT INTO uiconfig (section, var, value, description, disabled, type)
SELECT 'metroport', v.var, '1', v.description, 0, 7
FROM (
    SELECT 'metrotv_suspend_billing' AS var, 'Zawieś wystawianie faktur dla zablokowanych kont MetroTV' AS description
    UNION ALL SELECT 'fsecure_suspend_billing', 'Zawieś wystawianie faktur dla zablokowanych kont Fsecure'
) v
WHERE NOT EXISTS (
    SELECT 1 FROM uiconfig u
    WHERE u.section = 'metroport' AND u.var = v.var AND u.userid IS NULL AND u.divisionid IS NULL);
