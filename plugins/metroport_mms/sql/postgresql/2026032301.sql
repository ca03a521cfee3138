-- LMSMetroportPlugin upgrade 2026032301: the page length of the lists.
INSERT INTO uiconfig (section, var, value, description, disabled, type)
SELECT 'metroport', 'list_pagelimit', '100', 'Liczba wierszy na stronie list Metroport', 0, 7
WHERE NOT EXISTS (
    SELECT 1 FROM uiconfig u
    WHERE u.section = 'metroport' AND u.var = 'list_pagelimit' AND u.userid IS NULL AND u.divisionid IS NULL);
