-- case_days (0033) found a month's cases for the refresh of the monthly
-- case figures; case_month_counts and case_handling_counts (0039–0042)
-- are kept by signed changes instead and need it no more.
DROP TABLE IF EXISTS case_days
