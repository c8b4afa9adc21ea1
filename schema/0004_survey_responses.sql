-- Survey responses, one row per response and question about a system.
CREATE TABLE IF NOT EXISTS survey_responses (
    tenant           String,
    survey           String,
    response_id      String,
    system           String,
    respondent_group String,
    score            Float64,
    scale_min        UInt8,
    scale_max        UInt8,
    answered         Date,
    source           String,
    version          UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYear(answered)
ORDER BY (tenant, survey, response_id)
