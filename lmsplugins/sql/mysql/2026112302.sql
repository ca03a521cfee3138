-- Index for the web panels' customer list and search over customers not deleted: InnoDB keeps the
-- primary key in every secondary index, so (deleted, lastname, name) is read alone (index-only) in
-- (lastname, name, id) order and only the page shown is fetched in full. Our own name, so LMS
-- upgrades never collide with it; dropping it is always safe.
CREATE INDEX IF NOT EXISTS lmsplugins_customers_active_name_idx ON customers (deleted, lastname, name);
