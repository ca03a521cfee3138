-- LMSMetroportPlugin's uiconfig keys at its schema 2026032302 (credentials seeded disabled and empty,
-- serwer_url with its scheme), each only when missing. The tables come first, from their one
-- declaration (plugins/metroport_mms/tables.py): see 2026032302.tables. Re-runnable.
INSERT INTO uiconfig (section, var, value, description, disabled, type)
SELECT 'metroport', v.var, v.value, v.description, v.disabled, 7
FROM (
    SELECT 'serwer_url' AS var, 'https://api.mmsc.metroport.pl' AS value, 'Adres url serwera API Metroport' AS description,
        0 AS disabled
    UNION ALL SELECT 'api_login', '', 'Login do serwera API (włącz, aby trzymać go tutaj zamiast w lms.ini)', 1
    UNION ALL SELECT 'api_pass', '', 'Hasło do serwera API (włącz, aby trzymać je tutaj zamiast w lms.ini)', 1
    UNION ALL SELECT 'automatically_update_customer_data', 'true',
        'true - zmiany klientów sparowanych z MMS wysyła zadanie metroport-mms push-customers', 0
    UNION ALL SELECT 'api_token_expiration_time', '1200', 'Timeout dla tokena w sekundach. Domyslnie 1200s', 0
    UNION ALL SELECT 'metrotv_suspend_billing', '1', 'Zawieś wystawianie faktur dla zablokowanych kont MetroTV', 0
    UNION ALL SELECT 'fsecure_suspend_billing', '1', 'Zawieś wystawianie faktur dla zablokowanych kont Fsecure', 0
    UNION ALL SELECT 'list_pagelimit', '100', 'Liczba wierszy na stronie list Metroport', 0
    UNION ALL SELECT 'show_fsecure_in_customer_tab', '1', 'Pokaż na karcie klienta zakładkę F-Secure (1 - tak, 0 - nie)', 0
    UNION ALL SELECT 'show_metrotv_in_customer_tab', '1', 'Pokaż na karcie klienta zakładkę MetroTV (1 - tak, 0 - nie)', 0
) v
WHERE NOT EXISTS (
    SELECT 1 FROM uiconfig u
    WHERE u.section = 'metroport' AND u.var = v.var AND u.userid IS NULL AND u.divisionid IS NULL);
