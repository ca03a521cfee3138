CREATE TABLE IF NOT EXISTS example_notes (
    customerid integer PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
    greeting varchar(255) NOT NULL DEFAULT '',
    blocked smallint NOT NULL DEFAULT 0,
    mtime bigint NOT NULL DEFAULT 0
);
