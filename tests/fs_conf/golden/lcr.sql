-- mod_lcr data (tables of mod_lcr/sql/postgres-8.3.sql), replacing what was there.
BEGIN;
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
