-- Indexes for the web panels' customer search by NIP and PESEL: the LMS schema has none on these
-- columns, so every such search read the whole customers table. Our own names, so LMS upgrades never
-- collide with them; dropping them is always safe.
CREATE INDEX IF NOT EXISTS lmsplugins_customers_ten_idx ON customers (ten);
CREATE INDEX IF NOT EXISTS lmsplugins_customers_ssn_idx ON customers (ssn);
