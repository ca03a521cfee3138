-- Indexes for the web panels' customer list and search over customers not deleted: the list pages
-- (by name or by id, any page) and the surname-prefix search read these alone (index-only) and fetch
-- the full rows of the one page shown. Without them a page deep in a 100,000-customer list reads
-- every row before it. Our own names, so LMS upgrades never collide with them; dropping them is
-- always safe.
CREATE INDEX IF NOT EXISTS lmsplugins_customers_active_name_idx ON customers (lastname, name, id) WHERE deleted = 0;
CREATE INDEX IF NOT EXISTS lmsplugins_customers_active_id_idx ON customers (id) WHERE deleted = 0;
