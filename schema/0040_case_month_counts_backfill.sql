-- Fills case_month_counts from the cases stored before it existed (their
-- latest versions, argMax by case ID).
INSERT INTO case_month_counts (tenant, month, case_type, department, n, apps, apps_digital, version)
SELECT tn, toStartOfMonth(toDate(recv, 'Europe/Stockholm')) AS m, ctype, dep,
    toInt64(count()), toInt64(countIf(app = 1)), toInt64(countIf(app = 1 AND dig = 1)), 1
FROM (
    SELECT tenant AS tn, case_id, argMax(case_type, version) AS ctype, argMax(department, version) AS dep,
        argMax(digital, version) AS dig, argMax(application, version) AS app, argMax(received, version) AS recv
    FROM cases GROUP BY tenant, case_id
)
GROUP BY tn, m, ctype, dep
