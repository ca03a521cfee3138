-- LMSMetroportPlugin's doc/lms.pgsql (dbinfo 2025090303): the token cache and the pairing table, with the
-- same names, sequences and constraints, made re-runnable. The uiconfig seed differs on purpose:
-- * serwer_url carries its scheme (the PHP seed 'api.mmsc.metroport.pl ' does not work with an HTTP client);
-- * the credential rows are seeded DISABLED and empty instead of the placeholders 'loginki '/'pass':
--   an enabled uiconfig row overrides lms.ini, so a placeholder would hide the real credentials;
-- * nothing is inserted twice (a database where the PHP plugin ran is taken over as it is).
-- dbinfo is written by the migration runner in the same transaction.
CREATE SEQUENCE IF NOT EXISTS metroport_settings_id_seq;

CREATE TABLE IF NOT EXISTS metroport_settings (
    id integer DEFAULT nextval('metroport_settings_id_seq'::regclass) NOT NULL,
    name character varying(60) NOT NULL,
    value text NOT NULL,
    updated timestamp without time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    PRIMARY KEY (id),
    UNIQUE (name)
);

CREATE SEQUENCE IF NOT EXISTS metroport_customers_id_seq;

CREATE TABLE IF NOT EXISTS metroport_customers (
    id integer DEFAULT nextval('metroport_customers_id_seq'::regclass) NOT NULL,
    metroport_user_id integer NOT NULL,
    lms_user_id integer NOT NULL,
    PRIMARY KEY (id),
    UNIQUE (metroport_user_id, lms_user_id)
);

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
) v
WHERE NOT EXISTS (
    SELECT 1 FROM uiconfig u
    WHERE u.section = 'metroport' AND u.var = v.var AND u.userid IS NULL AND u.divisionid IS NULL);
