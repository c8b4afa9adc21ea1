package strategy

// MeasureSpec describes a built-in measure: a KPI Målbild computes in
// ClickHouse from raw facts. The collectors package implements them; the
// strategy parser only needs to know their names, units and parameters.
type MeasureSpec struct {
	Name   string
	Unit   Unit
	Facts  string   // which raw facts it reads: cases, eservices, survey, probes
	Params []string // parameters an indicator may set
	// Dimensions the measure is also broken down by.
	Dimensions []string
	Title      Text
}

// Measures lists the built-in measures by name.
var Measures = map[string]MeasureSpec{}

func init() {
	for _, m := range []MeasureSpec{
		{Name: "eservices_active", Unit: UnitCount, Facts: "eservices", Params: []string{"category", "department"}, Dimensions: []string{"category", "department"},
			Title: Text{SV: "Antal aktiva e-tjänster", EN: "Active e-services"}},
		{Name: "eservices_integrated_share", Unit: UnitPercent, Facts: "eservices", Params: []string{"category", "department"}, Dimensions: []string{"category", "department"},
			Title: Text{SV: "Andel e-tjänster integrerade med verksamhetssystem", EN: "Share of e-services integrated with a back-office system"}},
		{Name: "eservices_eid_share", Unit: UnitPercent, Facts: "eservices", Params: []string{"category", "department"}, Dimensions: []string{"category", "department"},
			Title: Text{SV: "Andel e-tjänster med e-legitimation", EN: "Share of e-services requiring e-ID"}},
		{Name: "eservices_added", Unit: UnitCount, Facts: "eservices", Params: []string{"category", "department"},
			Title: Text{SV: "Nya e-tjänster sedan förra ögonblicksbilden", EN: "E-services added since the previous snapshot"}},
		{Name: "eservices_retired", Unit: UnitCount, Facts: "eservices", Params: []string{"category", "department"},
			Title: Text{SV: "Avvecklade e-tjänster sedan förra ögonblicksbilden", EN: "E-services retired since the previous snapshot"}},
		{Name: "digital_share", Unit: UnitPercent, Facts: "cases", Params: []string{"case_types", "department"}, Dimensions: []string{"case_type", "department"},
			Title: Text{SV: "Andel ansökningar via e-tjänst", EN: "Share of applications made digitally"}},
		{Name: "handling_time_median", Unit: UnitDays, Facts: "cases", Params: []string{"top", "case_types", "department"}, Dimensions: []string{"case_type", "department"},
			Title: Text{SV: "Handläggningstid, median", EN: "Handling time, median"}},
		{Name: "handling_time_p90", Unit: UnitDays, Facts: "cases", Params: []string{"top", "case_types", "department"}, Dimensions: []string{"case_type", "department"},
			Title: Text{SV: "Handläggningstid, 90:e percentil", EN: "Handling time, 90th percentile"}},
		{Name: "satisfaction_mean", Unit: UnitIndex, Facts: "survey", Params: []string{"survey", "system", "group"}, Dimensions: []string{"system", "group"},
			Title: Text{SV: "Nöjdhet med system, medelvärde", EN: "System satisfaction, mean"}},
		{Name: "satisfaction_top_share", Unit: UnitPercent, Facts: "survey", Params: []string{"survey", "system", "group", "min"}, Dimensions: []string{"system", "group"},
			Title: Text{SV: "Andel svar 4–5", EN: "Share of answers 4–5"}},
		{Name: "satisfaction_systems_top_share", Unit: UnitPercent, Facts: "survey", Params: []string{"survey", "min"},
			Title: Text{SV: "Andel system med betyg 4–5", EN: "Share of systems rated 4–5"}},
		{Name: "satisfaction_responses", Unit: UnitCount, Facts: "survey", Params: []string{"survey", "system", "group"}, Dimensions: []string{"system", "group"},
			Title: Text{SV: "Antal svar", EN: "Number of responses"}},
		{Name: "availability_uptime", Unit: UnitPercent, Facts: "probes", Params: []string{"service"}, Dimensions: []string{"service"},
			Title: Text{SV: "Tillgänglighet", EN: "Availability"}},
		{Name: "availability_maintenance_share", Unit: UnitPercent, Facts: "probes", Params: []string{"service"}, Dimensions: []string{"service"},
			Title: Text{SV: "Andel tid i planerat underhåll", EN: "Share of time in planned maintenance"}},
		{Name: "response_time_mean", Unit: UnitMillis, Facts: "probes", Params: []string{"service"}, Dimensions: []string{"service"},
			Title: Text{SV: "Svarstid, medel", EN: "Response time, mean"}},
		{Name: "response_time_p95", Unit: UnitMillis, Facts: "probes", Params: []string{"service"}, Dimensions: []string{"service"},
			Title: Text{SV: "Svarstid, 95:e percentil", EN: "Response time, 95th percentile"}},
	} {
		Measures[m.Name] = m
	}
}
