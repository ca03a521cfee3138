-- The tables of LMSMetroportPlugin at its schema 2026032302 on SQLite (the embedded demo database): the
-- same names, columns, keys and indexes as its PostgreSQL schema, and the same uiconfig keys
-- (credentials seeded disabled and empty, serwer_url with its scheme). Re-runnable.
CREATE TABLE IF NOT EXISTS metroport_settings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name varchar(60) NOT NULL,
    value text NOT NULL,
    updated timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (name)
);

CREATE TABLE IF NOT EXISTS metroport_customers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    metroport_user_id integer NOT NULL,
    lms_user_id integer NOT NULL,
    metrotv_suspend smallint NOT NULL DEFAULT 0,
    metrotv_suspend_billing smallint NOT NULL DEFAULT 0,
    metro_fsecure_suspend smallint NOT NULL DEFAULT 0,
    metro_fsecure_suspend_billing smallint NOT NULL DEFAULT 0,
    UNIQUE (metroport_user_id, lms_user_id)
);

CREATE TABLE IF NOT EXISTS metroport_metrotv_packages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    firmid BIGINT NOT NULL,
    iptv_program VARCHAR(255),
    active SMALLINT DEFAULT 0,
    sort BIGINT DEFAULT 0,
    creationdate BIGINT DEFAULT 0,
    moddate BIGINT DEFAULT 0,
    deletedate BIGINT DEFAULT 0,
    http_export SMALLINT DEFAULT 0,
    provider VARCHAR(255),
    ext_pkg_id VARCHAR(255),
    tariffcode VARCHAR(255),
    pkg_name VARCHAR(255),
    pkg_desc TEXT,
    pkg_tvpanel_desc TEXT,
    pkg_autoinclude TEXT,
    pkg_denied TEXT,
    pkg_valid_from DATE,
    pkg_valid_to DATE,
    self_service SMALLINT DEFAULT 0,
    npvr_quota BIGINT DEFAULT 0,
    timeshift_allow SMALLINT DEFAULT 0,
    ext_device_allow BIGINT DEFAULT 0,
    tvonline_maxsessions BIGINT DEFAULT 0,
    pkg_group BIGINT DEFAULT 0,
    iptv_ozz SMALLINT DEFAULT 0,
    firmname VARCHAR(255),
    contracttime BIGINT DEFAULT 0,
    pricenetto NUMERIC(10,2) DEFAULT 0.00,
    vat BIGINT DEFAULT 0,
    pricebrutto NUMERIC(10,2) DEFAULT 0.00,
    pricenetto_provider NUMERIC(10,2) DEFAULT 0.00,
    vat_provider BIGINT DEFAULT 0,
    pricebrutto_provider NUMERIC(10,2) DEFAULT 0.00,
    promotiontime BIGINT DEFAULT 0,
    promotion_pricenetto_provider NUMERIC(10,2) DEFAULT 0.00,
    promotion_pricebrutto_provider NUMERIC(10,2) DEFAULT 0.00,
    countactive BIGINT DEFAULT 0
);

CREATE TABLE IF NOT EXISTS metroport_fsecure_packages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ext_id VARCHAR(255),
    name VARCHAR(255) NOT NULL,
    description TEXT,
    license_size BIGINT DEFAULT 0
);

CREATE TABLE IF NOT EXISTS metroport_metrotv_stb (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    firmid BIGINT DEFAULT 0,
    iptv_program VARCHAR(255),
    iptv_portalid BIGINT DEFAULT 0,
    status BIGINT DEFAULT 0,
    userid BIGINT DEFAULT 0,
    contractid BIGINT DEFAULT 0,
    actualtariffid BIGINT DEFAULT 0,
    networkid BIGINT DEFAULT 0,
    ext_linked BIGINT DEFAULT 0,
    mac VARCHAR(255) NOT NULL,
    ipaddr VARCHAR(255),
    serialnumber VARCHAR(255),
    vcasid VARCHAR(255),
    customer_sn VARCHAR(255),
    hdcp_ksv VARCHAR(255),
    modelid BIGINT DEFAULT 0,
    devel SMALLINT DEFAULT 0,
    servicetype VARCHAR(255),
    servicetype_force SMALLINT DEFAULT 0,
    must_reboot SMALLINT DEFAULT 0,
    description TEXT,
    activedate BIGINT DEFAULT 0,
    error_log BIGINT DEFAULT 0,
    fwlog BIGINT DEFAULT 0,
    boot_options TEXT,
    creationdate BIGINT DEFAULT 0,
    creatorid BIGINT DEFAULT 0,
    moddate BIGINT DEFAULT 0,
    modid BIGINT DEFAULT 0,
    nodeid BIGINT DEFAULT 0,
    private SMALLINT DEFAULT 0,
    active SMALLINT DEFAULT 0,
    addressip VARCHAR(255),
    modelname VARCHAR(255),
    iptv_accountid BIGINT DEFAULT 0,
    order_id VARCHAR(255),
    firmname VARCHAR(255),
    username VARCHAR(255),
    usertype VARCHAR(255),
    statusname VARCHAR(255),
    channels TEXT,
    iptv_portal VARCHAR(255),
    UNIQUE (mac),
    UNIQUE (serialnumber)
);

CREATE INDEX IF NOT EXISTS metroport_metrotv_packages_firmid ON metroport_metrotv_packages (firmid);
CREATE INDEX IF NOT EXISTS metroport_metrotv_packages_active ON metroport_metrotv_packages (active);
CREATE INDEX IF NOT EXISTS metroport_metrotv_packages_provider ON metroport_metrotv_packages (provider);
CREATE INDEX IF NOT EXISTS metroport_fsecure_packages_ext_id ON metroport_fsecure_packages (ext_id);
CREATE INDEX IF NOT EXISTS metroport_fsecure_packages_license_size ON metroport_fsecure_packages (license_size);
CREATE INDEX IF NOT EXISTS metroport_metrotv_stb_firmid ON metroport_metrotv_stb (firmid);
CREATE INDEX IF NOT EXISTS metroport_metrotv_stb_mac ON metroport_metrotv_stb (mac);
CREATE INDEX IF NOT EXISTS metroport_metrotv_stb_serialnumber ON metroport_metrotv_stb (serialnumber);
CREATE INDEX IF NOT EXISTS metroport_metrotv_stb_status ON metroport_metrotv_stb (status);
CREATE INDEX IF NOT EXISTS metroport_metrotv_stb_userid ON metroport_metrotv_stb (userid);
CREATE INDEX IF NOT EXISTS metroport_metrotv_stb_iptv_accountid ON metroport_metrotv_stb (iptv_accountid);
CREATE INDEX IF NOT EXISTS metroport_metrotv_stb_active ON metroport_metrotv_stb (active);


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
