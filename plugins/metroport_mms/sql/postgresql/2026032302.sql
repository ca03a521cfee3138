-- LMSMetroportPlugin upgrade 2026032302: which boxes the customer card shows.
INSERT INTO uiconfig (section, var, value, description, disabled, type)
SELECT 'metroport', v.var, '1', v.description, 0, 7
FROM (
    SELECT 'show_fsecure_in_customer_tab' AS var,
        'Pokaż na karcie klienta zakładkę F-Secure (1 - tak, 0 - nie)' AS description
    UNION ALL SELECT 'show_metrotv_in_customer_tab', 'Pokaż na karcie klienta zakładkę MetroTV (1 - tak, 0 - nie)'
) v
WHERE NOT EXISTS (
    SELECT 1 FROM uiconfig u
    WHERE u.section = 'metroport' AND u.var = v.var AND u.userid IS NULL AND u.divisionid IS NULL);
