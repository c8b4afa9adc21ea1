-- Fills case_monthly from the cases stored before it existed (version 1:
-- any later write of a month replaces it).
INSERT INTO case_monthly (tenant, month, case_type, department, n, apps, apps_digital, version)
SELECT tn, toStartOfMonth(toDate(recv, 'Europe/Stockholm')) AS m, ctype, dep, count(), countIf(app = 1), countIf(app = 1 AND dig = 1), 1
FROM (
    SELECT tenant AS tn, case_id, argMax(case_type, version) AS ctype, argMax(department, version) AS dep,
        argMax(digital, version) AS dig, argMax(application, version) AS app, argMax(received, version) AS recv
    FROM cases GROUP BY tenant, case_id
)
GROUP BY tn, m, ctype, dep
