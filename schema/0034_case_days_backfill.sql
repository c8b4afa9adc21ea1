-- Fills case_days from the cases stored before it existed: the received
-- and decided days of every stored version.
INSERT INTO case_days (tenant, day, case_id, version)
SELECT tenant, arrayJoin([toDate(received, 'Europe/Stockholm'), toDate(ifNull(decided, received), 'Europe/Stockholm')]) AS d, case_id, version
FROM cases
