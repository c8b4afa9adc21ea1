-- Fills case_handling_counts from the cases stored before it existed
-- (their latest versions, argMax by case ID).
INSERT INTO case_handling_counts (tenant, month, case_type, department, days, n, version)
SELECT tn, toStartOfMonth(toDate(decd, 'Europe/Stockholm')) AS m, ctype, dep,
    toUInt32(toDate(decd, 'Europe/Stockholm') - toDate(recv, 'Europe/Stockholm')) AS hd, toInt64(count()), 1
FROM (
    SELECT tenant AS tn, case_id, argMax(case_type, version) AS ctype, argMax(department, version) AS dep,
        argMax(received, version) AS recv, argMax(ifNull(decided, toDateTime(0)), version) AS decd
    FROM cases GROUP BY tenant, case_id
)
WHERE decd > toDateTime(0) AND toDate(decd, 'Europe/Stockholm') - toDate(recv, 'Europe/Stockholm') >= 0
GROUP BY tn, m, ctype, dep, hd
