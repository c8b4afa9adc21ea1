package followup

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// messages are the workflow's texts: Swedish first, English second.
var messages = map[string][2]string{
	"refused":          {"Det gick inte", "That did not work"},
	"unavailable":      {"Databasen svarar inte", "The database does not answer"},
	"unavailable_text": {"Inget sparades. Försök igen om en stund.", "Nothing was saved. Try again in a while."},
	"internal":         {"Internt fel", "Internal error"},
	"internal_text":    {"Något gick fel hos oss. Inget sparades. Felet är loggat.", "Something went wrong on our side. Nothing was saved. The error was logged."},
	"back":             {"Tillbaka till rapportperioderna", "Back to the report periods"},

	"role_viewer":    {"läsare", "viewer"},
	"role_editor":    {"redaktör", "editor"},
	"role_admin":     {"administratör", "administrator"},
	"signed_in_as":   {"Inloggad som %s", "Signed in as %s"},
	"sign_out":       {"Logga ut", "Sign out"},
	"followup_nav":   {"Uppföljningens meny", "Follow-up menu"},
	"nav_periods":    {"Rapportperioder", "Report periods"},
	"nav_upload":     {"Ladda upp värden", "Upload values"},
	"nav_audit":      {"Ändringslogg", "Audit trail"},
	"nav_users":      {"Användare", "Users"},
	"saved":          {"Sparat.", "Saved."},
	"problems":       {"Rätta följande:", "Please correct the following:"},
	"csrf_note":      {"", ""},
	"periods_title":  {"Uppföljning per rapportperiod", "Follow-up by report period"},
	"periods_intro":  {"Bekräfta eller ändra motorns förslag till bedömning för varje indikator och mål, skriv en analys och klarmarkera. När allt är klart stänger en administratör perioden.", "Confirm or change the engine's proposed assessment of each indicator and goal, write an analysis and mark it ready. When everything is ready an administrator closes the period."},
	"period":         {"Period", "Period"},
	"state":          {"Läge", "State"},
	"ready_count":    {"Klarmarkerade", "Marked ready"},
	"state_open":     {"Öppen", "Open"},
	"state_closed":   {"Stängd", "Closed"},
	"state_running":  {"Pågår", "In progress"},
	"due":            {"Aktuell rapport", "Report due"},
	"of":             {"%d av %d", "%d of %d"},
	"closed_by":      {"Stängd %s av %s", "Closed %s by %s"},
	"report_title":   {"Rapport %s", "Report %s"},
	"report_running": {"Perioden pågår: förslagen bygger på det som är känt i dag och kan ändras.", "The period is in progress: the proposals use what is known today and may change."},
	"report_closed":  {"Perioden är stängd. Bedömningarna kan inte ändras; en administratör kan öppna perioden igen med en motivering.", "The period is closed. Assessments cannot be changed; an administrator can reopen the period, giving a reason."},
	"completion":     {"Klarmarkering per ansvarig", "Completion by owner"},
	"completion_cap": {"Antal mål och indikatorer per ansvarig och hur långt de kommit", "Goals and indicators per owner and how far they have come"},
	"owner":          {"Ansvarig", "Owner"},
	"no_owner":       {"(ingen ansvarig)", "(no owner)"},
	"total":          {"Totalt", "Total"},
	"missing":        {"Saknas", "Missing"},
	"draft":          {"Utkast", "Draft"},
	"confirmed":      {"Bekräftad", "Confirmed"},
	"ready":          {"Klarmarkerad", "Marked ready"},
	"print":          {"Utskriftsvänlig rapport (A4)", "Printable report (A4)"},
	"csv":            {"Ladda ner rapporten som CSV", "Download the report as CSV"},
	"close":          {"Stäng perioden", "Close the period"},
	"close_note":     {"%d av %d mål och indikatorer är klarmarkerade (%d %%). Stängd period kan bara öppnas igen av en administratör, med motivering.", "%d of %d goals and indicators are marked ready (%d %%). A closed period can only be reopened by an administrator, giving a reason."},
	"report":         {"Rapport", "Report"},
	"close_check":    {"Stäng perioden …", "Close the period …"},
	"close_title":    {"Stäng perioden %s?", "Close the period %s?"},
	"close_missing":  {"%d av %d mål och indikatorer är inte klarmarkerade (%d %% klart).", "%d of %d goals and indicators are not marked ready (%d %% done)."},
	"close_all_done": {"Alla mål och indikatorer är klarmarkerade.", "Every goal and indicator is marked ready."},
	"close_effect":   {"När perioden är stängd kan varken bedömningar eller värden för perioden ändras. De som inte är klarmarkerade stängs i sitt nuvarande läge. En administratör kan öppna perioden igen, med motivering.", "Once the period is closed, neither assessments nor values for it can be changed. Those not marked ready are closed as they are. An administrator can reopen the period, giving a reason."},
	"close_owners":   {"Det som saknas per ansvarig", "What is missing by owner"},
	"close_open":     {"Inte klarmarkerade", "Not marked ready"},
	"close_open_cap": {"Mål och indikatorer som inte är klarmarkerade, med sitt läge", "Goals and indicators not marked ready, with their state"},
	"close_anyway":   {"Stäng perioden ändå", "Close the period anyway"},
	"close_cancel":   {"Avbryt och gå tillbaka till rapporten", "Cancel and go back to the report"},
	"close_already":  {"Perioden är redan stängd.", "The period is already closed."},
	"reopen":         {"Öppna perioden igen", "Reopen the period"},
	"reason":         {"Motivering (krävs)", "Reason (required)"},
	"goal":           {"Mål", "Goal"},
	"indicator":      {"Indikator", "Indicator"},
	"outcome":        {"Utfall", "Outcome"},
	"target":         {"Årsmål", "Yearly target"},
	"proposal":       {"Förslag", "Proposal"},
	"assessment":     {"Bedömning", "Assessment"},
	"forecast":       {"Helårsprognos", "Full-year forecast"},
	"comment":        {"Analys och kommentar", "Analysis and comment"},
	"status":         {"Status", "Status"},
	"edit":           {"Bedöm", "Assess"},
	"show":           {"Visa", "Show"},
	"area_table":     {"Mål och indikatorer i %s, %s", "Goals and indicators in %s, %s"},

	"assess_title":       {"Bedömning %s: %s", "Assessment %s: %s"},
	"facts":              {"Underlag", "Basis"},
	"proposal_reason":    {"Motorns motivering", "The engine's reasoning"},
	"forecast_reason":    {"Prognosens motivering", "Reasoning for the forecast"},
	"items":              {"Ingår i målets förslag", "Included in the goal's proposal"},
	"your_assessment":    {"Din bedömning", "Your assessment"},
	"forecast_legend":    {"Helårsprognos: når indikatorn/målet årsmålet?", "Full-year forecast: will the target for the year be reached?"},
	"no_forecast":        {"Ingen prognos", "No forecast"},
	"fc_met":             {"Förväntas uppfyllas", "Expected to be met"},
	"fc_partly":          {"Förväntas delvis uppfyllas", "Expected to be partly met"},
	"fc_not_met":         {"Förväntas inte uppfyllas", "Expected not to be met"},
	"comment_hint":       {"Högst %d tecken. Syns på den publika sidan när bedömningen bekräftas (för publika mål och indikatorer).", "At most %d characters. Shown on the public page once the assessment is confirmed (for public goals and indicators)."},
	"mark_ready":         {"Klarmarkera (min del är klar för sammanställning)", "Mark ready (my part is ready to be compiled)"},
	"save_draft":         {"Spara utkast", "Save draft"},
	"confirm":            {"Bekräfta och publicera", "Confirm and publish"},
	"buttons_hint":       {"Ett utkast syns bara för inloggade. En bekräftad bedömning publiceras.", "A draft is only seen by signed-in staff. A confirmed assessment is published."},
	"not_allowed":        {"Du kan läsa men inte ändra: bara ansvarig redaktör (ägare %s) eller en administratör kan bedöma.", "You can read but not change this: only the responsible editor (owner %s) or an administrator can assess it."},
	"history":            {"Tidigare versioner för perioden", "Earlier versions for the period"},
	"history_cap":        {"Alla sparade versioner av bedömningen, senaste först", "Every saved version of the assessment, newest first"},
	"saved_at":           {"Sparad", "Saved"},
	"by":                 {"Av", "By"},
	"conflict":           {"Någon annan har sparat sedan du öppnade formuläret", "Someone else saved since you opened the form"},
	"conflict_theirs":    {"Sparat av %s %s", "Saved by %s at %s"},
	"conflict_yours":     {"Din version (inte sparad)", "Your version (not saved)"},
	"conflict_hint":      {"Formuläret nedan innehåller din version. Spara igen om den ska ersätta den sparade.", "The form below holds your version. Save again if it should replace the saved one."},
	"values":             {"Värden", "Values"},
	"values_cap":         {"Indikatorns värden i år och i fjol (totalt och per dimension)", "The indicator's values this year and last (total and by dimension)"},
	"value":              {"Värde", "Value"},
	"dimension":          {"Dimension", "Dimension"},
	"source":             {"Källa", "Source"},
	"correct":            {"Rätta", "Correct"},
	"value_form":         {"Ange eller rätta ett värde", "Enter or correct a value"},
	"value_period":       {"Period (t.ex. 2025, 2025-T2, 2025-Q3, 2025-03)", "Period (e.g. 2025, 2025-T2, 2025-Q3, 2025-03)"},
	"value_dimension":    {"Dimension (valfri, typ=värde)", "Dimension (optional, kind=value)"},
	"value_comment":      {"Kommentar: källa eller skäl till rättelsen (krävs)", "Comment: source or reason for the correction (required)"},
	"value_save":         {"Spara värdet", "Save the value"},
	"value_computed":     {"Indikatorn beräknas automatiskt (%s). Ett värde som anges här skrivs över när källan hämtas nästa gång.", "The indicator is computed automatically (%s). A value entered here is overwritten the next time the source is read."},
	"value_history":      {"Manuella värden och rättelser", "Manual values and corrections"},
	"value_history_cap":  {"Alla versioner som angetts för hand eller laddats upp, senaste först", "Every version entered by hand or uploaded, newest first"},
	"value_conflict":     {"Sparat värde: %s (%s, %s)", "Saved value: %s (%s, %s)"},
	"value_yours":        {"Ditt värde: %s", "Your value: %s"},
	"unit":               {"Enhet", "Unit"},
	"values_n":           {"Antal värden", "Number of values"},
	"latest_total":       {"Senaste totalvärde", "Latest total"},
	"values_count":       {"%s värden %d–%d: %s totalvärden och %s per dimension.", "%s values %d–%d: %s totals and %s by dimension."},
	"values_summary":     {"Sammanfattning per period", "Summary by period"},
	"values_summary_cap": {"Totalvärde och antal värden per dimension för varje period, senaste först", "Total and number of values by dimension for each period, newest first"},
	"breakdowns":         {"Per dimension", "By dimension"},
	"show_values":        {"Visa värdena", "Show the values"},
	"values_list":        {"Alla värden", "All values"},
	"values_list_cap":    {"Indikatorns värden, senaste perioden först (totalt och per dimension)", "The indicator's values, newest period first (total and by dimension)"},
	"values_of_period":   {"Visar bara %s.", "Showing %s only."},
	"all_periods":        {"Visa alla perioder", "Show every period"},
	"history_count":      {"%s sparade versioner.", "%s saved versions."},
	"page_of":            {"Sida %s av %s", "Page %s of %s"},
	"shown_of":           {"Visar %s–%s av %s", "Showing %s–%s of %s"},
	"pager_values":       {"Bläddra bland värdena", "Browse the values"},
	"pager_values_end":   {"Bläddra bland värdena (under listan)", "Browse the values (below the list)"},
	"pager_history":      {"Bläddra i historiken", "Browse the history"},
	"pager_history_end":  {"Bläddra i historiken (under listan)", "Browse the history (below the list)"},
	"first_page":         {"Första", "First"},
	"last_page":          {"Sista", "Last"},
	"prev":               {"Föregående", "Previous"},
	"next":               {"Nästa", "Next"},

	"upload_title":   {"Ladda upp värden", "Upload values"},
	"upload_intro":   {"Ladda upp en CSV-fil i seriemallen: kolumnerna indikator;period;värde och valfritt dimension;kommentar (semikolon eller komma, UTF-8 eller Windows-1252, decimalkomma går bra). Hela filen avvisas om någon rad är fel.", "Upload a CSV file in the series template: the columns indicator,period,value and optionally dimension,comment (semicolon or comma, UTF-8 or Windows-1252, decimal comma is fine). The whole file is refused if any row is wrong."},
	"upload_file":    {"Fil", "File"},
	"upload_comment": {"Kommentar: varifrån kommer värdena? (krävs)", "Comment: where do the values come from? (required)"},
	"upload_save":    {"Ladda upp", "Upload"},
	"template":       {"Ladda ner mallen", "Download the template"},
	"upload_done":    {"%s värden sparades.", "%s values were saved."},
	"upload_first":   {"Här visas de första %d av %s värdena; alla finns på indikatorernas sidor.", "The first %d of the %s values are shown here; all of them are on the indicators' pages."},

	"audit_title": {"Ändringslogg", "Audit trail"},
	"audit_intro": {"Varje ändring i uppföljningen, varje användarändring och varje misslyckad inloggning, med vem, när, vad och läget före och efter. Inget tas bort.", "Every change in the follow-up, every user change and every failed sign-in, with who, when, what and the state before and after. Nothing is deleted."},
	"filter":      {"Filtrera", "Filter"},
	"actor":       {"Vem", "Who"},
	"action":      {"Händelse", "Action"},
	"any":         {"Alla", "Any"},
	"subject":     {"Vad", "What"},
	"from":        {"Från och med (datum)", "From (date)"},
	"to":          {"Till och med (datum)", "To (date)"},
	"search":      {"Sök i innehållet", "Search the content"},
	"when":        {"När", "When"},
	"before":      {"Före", "Before"},
	"after":       {"Efter", "After"},
	"remote":      {"Adress", "Address"},
	"audit_cap":   {"Ändringar, senaste först", "Changes, newest first"},
	"audit_csv":   {"Exportera urvalet som CSV", "Export the selection as CSV"},
	"next_page":   {"Äldre", "Older"},
	"prev_page":   {"Nyare", "Newer"},
	"bad_filter":  {"Filtret kunde inte läsas: %s", "The filter could not be read: %s"},

	"print_title":      {"Uppföljningsrapport %s", "Follow-up report %s"},
	"print_made":       {"Utskriven %s", "Printed %s"},
	"print_prelim":     {"Preliminär: perioden är inte stängd.", "Preliminary: the period is not closed."},
	"print_hint":       {"Skriv ut med webbläsarens utskriftsfunktion (Ctrl+P); sidan är anpassad för A4.", "Print with the browser's print function (Ctrl+P); the page is laid out for A4."},
	"contents":         {"Innehåll", "Contents"},
	"indicators_of":    {"Indikatorer för målet", "Indicators of the goal"},
	"summary":          {"Sammanfattning", "Summary"},
	"vision":           {"Vision", "Vision"},
	"no_comment":       {"Ingen kommentar.", "No comment."},
	"not_assessed_yet": {"Inte bedömd", "Not assessed"},

	"body_reported":     {"Rapporterat", "Reported"},
	"body_not_reported": {"Ej rapporterat", "Not reported"},

	"login_title":   {"Logga in", "Sign in"},
	"login_intro":   {"Logga in för att se interna sidor och arbeta med uppföljningen.", "Sign in to see internal pages and work on the follow-up."},
	"user_name":     {"Användarnamn", "User name"},
	"password":      {"Lösenord", "Password"},
	"login_bad":     {"Fel användarnamn eller lösenord.", "Wrong user name or password."},
	"login_limited": {"För många inloggningsförsök. Försök igen om %d sekunder.", "Too many sign-in attempts. Try again in %d seconds."},
	"login_expired": {"Inloggningsformuläret har gått ut. Försök igen.", "The sign-in form expired. Try again."},
	"already_in":    {"Du är inloggad som %s.", "You are signed in as %s."},

	"users_title":    {"Användare", "Users"},
	"users_intro":    {"Användarfilen %s. Ändringar här skrivs till filen och loggas.", "The users file %s. Changes here are written to the file and logged."},
	"users_cap":      {"Användare och deras roller", "Users and their roles"},
	"display_name":   {"Namn", "Display name"},
	"role":           {"Roll", "Role"},
	"owners":         {"Skriver för (ägare, kommaseparerade)", "Writes for (owners, comma-separated)"},
	"has_password":   {"Lösenord", "Password"},
	"yes":            {"Ja", "Yes"},
	"no":             {"Nej (endast via inloggningsproxy)", "No (sign-in through the proxy only)"},
	"add_user":       {"Lägg till användare", "Add a user"},
	"new_password":   {"Lösenord (minst 10 tecken; tomt: bara via inloggningsproxy)", "Password (at least 10 characters; empty: proxy sign-in only)"},
	"save":           {"Spara", "Save"},
	"set_password":   {"Byt lösenord", "Change password"},
	"remove":         {"Ta bort", "Remove"},
	"remove_confirm": {"Ja, ta bort %s", "Yes, remove %s"},
	"edit_user":      {"Ändra %s", "Change %s"},
	"no_users_file":  {"Ingen användarfil är konfigurerad (auth.users_file).", "No users file is configured (auth.users_file)."},
}

func tr(lang, key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if lang == "en" && m[1] != "" {
		return m[1]
	}
	return m[0]
}

func trf(lang, key string, args ...any) string { return fmt.Sprintf(tr(lang, key), args...) }

// templateFuncs are added to the site's template functions; ft and ftf
// translate the workflow's own texts.
var templateFuncs = template.FuncMap{
	"ft":  tr,
	"ftf": trf,
}

// levelView is an assessment level as shown: symbol, words and a colour
// class, never colour alone.
type levelView struct {
	Symbol, Label, Class string
}

func levelOf(l strategy.Level, lang string) *levelView {
	if l == strategy.LevelNone {
		return nil
	}
	class := "none"
	switch l {
	case strategy.LevelMet:
		class = "good"
	case strategy.LevelPartly:
		class = "warn"
	case strategy.LevelNotMet:
		class = "bad"
	}
	return &levelView{Symbol: progress.LevelSymbol(l), Label: capitalize(progress.LevelLabel(l, lang)), Class: class}
}

// forecastLabel is how a forecast is written: "Förväntas uppfyllas".
func forecastLabel(l strategy.Level, lang string) string {
	switch l {
	case strategy.LevelMet, strategy.LevelPartly, strategy.LevelNotMet:
		return tr(lang, "fc_"+string(l))
	case strategy.LevelNotAssessed:
		return capitalize(progress.LevelLabel(l, lang))
	}
	return tr(lang, "no_forecast")
}

func capitalize(s string) string {
	for i, r := range s {
		return strings.ToUpper(string(r)) + s[i+len(string(r)):]
	}
	return s
}

// stateLabel names a completion state.
func stateLabel(state, lang string) string {
	switch state {
	case StateDraft:
		return tr(lang, "draft")
	case StateConfirmed:
		return tr(lang, "confirmed")
	case StateReady:
		return tr(lang, "ready")
	}
	return tr(lang, "missing")
}

func stateClass(state string) string {
	switch state {
	case StateReady:
		return "good"
	case StateConfirmed:
		return "ok"
	case StateDraft:
		return "warn"
	}
	return "none"
}

// formatTime writes a time as "2025-05-12 09:15" in Stockholm time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.In(strategy.Stockholm).Format("2006-01-02 15:04")
}

func formatValue(v float64, u strategy.Unit, lang string) string {
	return progress.FormatValue(v, u, lang)
}

func ownerText(o, lang string) string {
	if o == "" {
		return tr(lang, "no_owner")
	}
	return o
}
