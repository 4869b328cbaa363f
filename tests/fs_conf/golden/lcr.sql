-- mod_lcr data, replacing what was there. The tables are those of FreeSWITCH's
-- src/mod/applications/mod_lcr/sql/postgres-8.3.sql, created when missing, with the lrn column
-- mod_lcr would otherwise add itself at load (ALTER TABLE) already in place.
BEGIN;
CREATE TABLE IF NOT EXISTS carriers (
  id serial NOT NULL,
  carrier_name VARCHAR(255) NOT NULL,
  enabled boolean NOT NULL DEFAULT 'true',
  CONSTRAINT carriers_pkey PRIMARY KEY (id)
);
CREATE TABLE IF NOT EXISTS carrier_gateway (
  id serial NOT NULL,
  carrier_id integer REFERENCES carriers(id),
  prefix VARCHAR(128) NOT NULL DEFAULT '',
  suffix VARCHAR(128) NOT NULL DEFAULT '',
  codec VARCHAR(128) NOT NULL DEFAULT '',
  enabled boolean NOT NULL DEFAULT 'true',
  CONSTRAINT carrier_gateway_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX IF NOT EXISTS gateway ON carrier_gateway (prefix, suffix);
CREATE TABLE IF NOT EXISTS lcr (
  id serial NOT NULL,
  digits NUMERIC(20, 0),
  rate numeric(11,5) NOT NULL,
  intrastate_rate numeric(11,5) NOT NULL,
  intralata_rate numeric(11,5) NOT NULL,
  carrier_id integer NOT NULL REFERENCES carriers(id),
  lead_strip integer NOT NULL DEFAULT 0,
  trail_strip integer NOT NULL DEFAULT 0,
  prefix VARCHAR(16) NOT NULL DEFAULT '',
  suffix VARCHAR(16) NOT NULL DEFAULT '',
  lcr_profile INTEGER NOT NULL DEFAULT 0,
  date_start timestamp with time zone NOT NULL DEFAULT '1970-01-01',
  date_end timestamp with time zone NOT NULL DEFAULT '2030-12-31',
  quality numeric(10,6) NOT NULL DEFAULT 0,
  reliability numeric(10,6) NOT NULL DEFAULT 0,
  cid VARCHAR(32) NOT NULL DEFAULT '',
  enabled boolean NOT NULL DEFAULT 'true',
  lrn BOOLEAN NOT NULL DEFAULT false,
  CONSTRAINT lcr_pkey PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS digits_rate ON lcr USING btree (digits, rate);
CREATE INDEX IF NOT EXISTS profile_digits_15 ON lcr (digits, lcr_profile);
CREATE INDEX IF NOT EXISTS unique_route ON lcr (digits, carrier_id);
DELETE FROM lcr;
DELETE FROM carrier_gateway;
DELETE FROM carriers;
INSERT INTO carriers (id, carrier_name, enabled) VALUES (1, 'carrier_b', true);
INSERT INTO carrier_gateway (id, carrier_id, prefix, suffix, enabled) VALUES (1, 1, 'sofia/gateway/carrier_b/', '', true);
INSERT INTO lcr (digits, rate, intrastate_rate, intralata_rate, carrier_id, lead_strip, trail_strip, prefix, suffix, lcr_profile, quality, reliability, cid, enabled) VALUES (86, 0.05, 0.05, 0.05, 1, 2, 0, '', '', 0, 0.500000, 0.950000, '', true);
INSERT INTO lcr (digits, rate, intrastate_rate, intralata_rate, carrier_id, lead_strip, trail_strip, prefix, suffix, lcr_profile, quality, reliability, cid, enabled) VALUES (86139, 0.031, 0.031, 0.031, 1, 2, 0, '', '', 0, 0.500000, 0.950000, '', true);
INSERT INTO carriers (id, carrier_name, enabled) VALUES (2, 'spare', false);
INSERT INTO carrier_gateway (id, carrier_id, prefix, suffix, enabled) VALUES (2, 2, 'sofia/gateway/spare/', '', false);
INSERT INTO carriers (id, carrier_name, enabled) VALUES (3, 'xx', true);
INSERT INTO carrier_gateway (id, carrier_id, prefix, suffix, enabled) VALUES (3, 3, 'sofia/gateway/xx/', '', true);
INSERT INTO lcr (digits, rate, intrastate_rate, intralata_rate, carrier_id, lead_strip, trail_strip, prefix, suffix, lcr_profile, quality, reliability, cid, enabled) VALUES (86, 0.05, 0.05, 0.05, 3, 2, 0, '6', '', 0, 0.500000, 0.950000, '20220601', true);
INSERT INTO lcr (digits, rate, intrastate_rate, intralata_rate, carrier_id, lead_strip, trail_strip, prefix, suffix, lcr_profile, quality, reliability, cid, enabled) VALUES (86139, 0.031, 0.031, 0.031, 3, 2, 0, '6', '', 0, 0.500000, 0.950000, '20220601', true);
COMMIT;
