-- Wildcore plugin tables (see plugins/wildcore/tables.py). dbinfo is written by the migration runner.
CREATE TABLE IF NOT EXISTS wildcore_onus (
    id int(11) NOT NULL AUTO_INCREMENT,
    customerid int(11) NOT NULL,
    ident varchar(64) NOT NULL,
    description varchar(255) NOT NULL DEFAULT '',
    PRIMARY KEY (id),
    UNIQUE KEY wildcore_onus_customer_ident (customerid, ident),
    INDEX wildcore_onus_ident (ident),
    CONSTRAINT wildcore_onus_customerid_fkey FOREIGN KEY (customerid) REFERENCES customers (id) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS wildcore_misses (
    id int(11) NOT NULL AUTO_INCREMENT,
    customerid int(11) NOT NULL,
    target varchar(128) NOT NULL,
    reason varchar(255) NOT NULL DEFAULT '',
    seen bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    UNIQUE KEY wildcore_misses_customer_target (customerid, target),
    CONSTRAINT wildcore_misses_customerid_fkey FOREIGN KEY (customerid) REFERENCES customers (id) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB;
