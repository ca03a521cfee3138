-- LMSMetroportPlugin upgrade 2025122900: the three cache tables the bin scripts fill, as the PHP step
-- creates them (BIGSERIAL keys filled with the provider's ids, mixed-case names folded to lower case).
CREATE TABLE IF NOT EXISTS metroport_metrotv_packages (
    id BIGSERIAL PRIMARY KEY UNIQUE NOT NULL,
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

CREATE INDEX IF NOT EXISTS metroport_metrotv_packages_firmid ON metroport_metrotv_packages (firmid);
CREATE INDEX IF NOT EXISTS metroport_metrotv_packages_active ON metroport_metrotv_packages (active);
CREATE INDEX IF NOT EXISTS metroport_metrotv_packages_provider ON metroport_metrotv_packages (provider);

CREATE TABLE IF NOT EXISTS metroport_fsecure_packages (
    id BIGSERIAL PRIMARY KEY UNIQUE NOT NULL,
    ext_id VARCHAR(255),
    name VARCHAR(255) NOT NULL,
    description TEXT,
    license_size BIGINT DEFAULT 0
);

CREATE INDEX IF NOT EXISTS metroport_fsecure_packages_ext_id ON metroport_fsecure_packages (ext_id);
CREATE INDEX IF NOT EXISTS metroport_fsecure_packages_license_size ON metroport_fsecure_packages (license_size);

CREATE TABLE IF NOT EXISTS metroport_metrotv_stb (
    id BIGSERIAL PRIMARY KEY UNIQUE NOT NULL,
    firmid BIGINT DEFAULT 0,
    iptv_program VARCHAR(255),
    iptv_portalid BIGINT DEFAULT 0,
    status BIGINT DEFAULT 0,
    userid BIGINT DEFAULT 0,
    contractid BIGINT DEFAULT 0,
    actualtariffid BIGINT DEFAULT 0,
    networkid BIGINT DEFAULT 0,
    ext_linked BIGINT DEFAULT 0,
    mac VARCHAR(255) UNIQUE NOT NULL,
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
    iptv_portal VARCHAR(255)
);

CREATE INDEX IF NOT EXISTS metroport_metrotv_stb_firmid ON metroport_metrotv_stb (firmid);
CREATE INDEX IF NOT EXISTS metroport_metrotv_stb_mac ON metroport_metrotv_stb (mac);
CREATE INDEX IF NOT EXISTS metroport_metrotv_stb_serialnumber ON metroport_metrotv_stb (serialnumber);
CREATE INDEX IF NOT EXISTS metroport_metrotv_stb_status ON metroport_metrotv_stb (status);
CREATE INDEX IF NOT EXISTS metroport_metrotv_stb_userid ON metroport_metrotv_stb (userid);
CREATE INDEX IF NOT EXISTS metroport_metrotv_stb_iptv_accountid ON metroport_metrotv_stb (iptv_accountid);
CREATE INDEX IF NOT EXISTS metroport_metrotv_stb_active ON metroport_metrotv_stb (active);

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'metroport_metrotv_stb_serial_unique') THEN
        ALTER TABLE metroport_metrotv_stb ADD CONSTRAINT metroport_metrotv_stb_serial_unique UNIQUE (serialnumber);
    END IF;
END
$$;
