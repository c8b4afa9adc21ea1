-- case_handling_monthly (0037) is replaced by case_handling_counts (0041,
-- 0042).
DROP TABLE IF EXISTS case_handling_monthly
