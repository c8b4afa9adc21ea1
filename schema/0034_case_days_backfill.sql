-- Fills case_days from the cases stored before it existed: the latest
-- version of each case on its received day and its decided day.
INSERT INTO case_days (tenant, day, case_id, case_type, department, digital, application, received, decided, present, version)
SELECT tn, arrayJoin(if(decd > toDateTime(0), [toDate(recv, 'Europe/Stockholm'), toDate(decd, 'Europe/Stockholm')], [toDate(recv, 'Europe/Stockholm')])) AS d,
    cid, ctype, dep, dig, app, recv, decd, 1, v
FROM (
    SELECT tenant AS tn, case_id AS cid, argMax(case_type, version) AS ctype, argMax(department, version) AS dep,
        argMax(digital, version) AS dig, argMax(application, version) AS app, argMax(received, version) AS recv,
        argMax(ifNull(decided, toDateTime(0)), version) AS decd, max(version) AS v
    FROM cases GROUP BY tenant, case_id
)
