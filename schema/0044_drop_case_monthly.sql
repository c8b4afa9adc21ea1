-- case_monthly (0035) is replaced by case_month_counts (0039, 0040).
DROP TABLE IF EXISTS case_monthly
