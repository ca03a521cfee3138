CREATE TABLE IF NOT EXISTS example_notes (
    customerid int(11) NOT NULL,
    greeting varchar(255) NOT NULL DEFAULT '',
    blocked smallint NOT NULL DEFAULT 0,
    mtime bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (customerid),
    CONSTRAINT example_notes_customerid_fkey FOREIGN KEY (customerid) REFERENCES customers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
