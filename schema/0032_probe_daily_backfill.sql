-- Fills probe_daily from the probe results stored before it existed
-- (version 1: any later write of a day replaces it).
INSERT INTO probe_daily (tenant, service, day, n, inm, okn, dur_sum, version)
SELECT tn, svc, toDate(t, 'Europe/Stockholm') AS d, count(), countIf(m = 1), countIf(okv = 1 AND m = 0), sumIf(dur, m = 0), 1
FROM (
    SELECT tn, svc, t, okv, dur,
        ((tn, svc, intDiv(toUInt32(t), 60)) IN (SELECT tenant, service, toUInt32(arrayJoin(arrayMap(x -> s + x, range(toUInt32(if(e > s, e - s, 0)))))) AS mi
            FROM (SELECT tenant, service, intDiv(toUInt32(starts), 60) AS s, intDiv(toUInt32(argMax(ends, version)), 60) AS e
            FROM maintenance_windows GROUP BY tenant, service, starts))
         OR (tn, '*', intDiv(toUInt32(t), 60)) IN (SELECT tenant, service, toUInt32(arrayJoin(arrayMap(x -> s + x, range(toUInt32(if(e > s, e - s, 0)))))) AS mi
            FROM (SELECT tenant, service, intDiv(toUInt32(starts), 60) AS s, intDiv(toUInt32(argMax(ends, version)), 60) AS e
            FROM maintenance_windows GROUP BY tenant, service, starts))) AS m
    FROM (SELECT tenant AS tn, service AS svc, ts AS t, ok AS okv, duration_ms AS dur FROM probe_results FINAL)
)
GROUP BY tn, svc, d
