package demo

import (
	"cmp"
	"math"
	"slices"
	"strconv"

	"github.com/malbild/malbild/internal/municipalities"
)

// The vocabulary of the synthetic municipality: case types, departments,
// channels, systems, e-services and peer municipalities. Everything here is
// invented but shaped like real Swedish municipal data; nothing names a
// person.

// caseType is one kind of case in the case-management export.
type caseType struct {
	Name string
	Kind string // Ärendeslag: Ansökan, Anmälan or Begäran
	Dept int    // index into departments
	// Weight is the relative frequency (Zipf-like by rank, with a gap
	// after the 20 most common so "the 20 most common" is stable).
	Weight float64
	// Days is the median handling time in days at baseline.
	Days float64
	// Spread is the log-normal sigma of the handling time.
	Spread float64
	// Digital shifts the type's share of digital applications on the logit
	// scale relative to the municipality's overall share.
	Digital float64
}

// department is an administration with its diarium prefix.
type department struct {
	Name   string // Enhet as exported
	Prefix string // diarium prefix, e.g. "BN"
	Admin  string // förvaltning, as used in the e-service catalogue
}

var departments = []department{
	{"Bygg- och miljöenheten", "BN", "Samhällsbyggnadsförvaltningen"},
	{"Socialförvaltningen", "SN", "Socialförvaltningen"},
	{"Utbildningsförvaltningen", "UN", "Utbildningsförvaltningen"},
	{"Kommunledningskontoret", "KS", "Kommunledningskontoret"},
	{"Teknik och fastighet", "TN", "Samhällsbyggnadsförvaltningen"},
	{"Kultur och fritid", "KFN", "Kultur- och fritidsförvaltningen"},
	{"Miljö- och hälsoskydd", "MHN", "Samhällsbyggnadsförvaltningen"},
	{"Vård och omsorg", "VON", "Socialförvaltningen"},
}

// caseTypes are ordered by frequency rank; weights are assigned in init.
var caseTypes = []caseType{
	{Name: "Ansökan om förskoleplats", Kind: "Ansökan", Dept: 2, Days: 45, Spread: 0.45, Digital: 1.6},
	{Name: "Försörjningsstöd-ansökan", Kind: "Ansökan", Dept: 1, Days: 9, Spread: 0.55, Digital: -0.3},
	{Name: "Bygglov", Kind: "Ansökan", Dept: 0, Days: 38, Spread: 0.6, Digital: 0.2},
	{Name: "Begäran om allmän handling", Kind: "Begäran", Dept: 3, Days: 2, Spread: 0.7, Digital: 0.5},
	{Name: "Färdtjänst", Kind: "Ansökan", Dept: 7, Days: 21, Spread: 0.45, Digital: -0.6},
	{Name: "Skolskjuts", Kind: "Ansökan", Dept: 2, Days: 14, Spread: 0.5, Digital: 1.0},
	{Name: "Felanmälan gata och park", Kind: "Anmälan", Dept: 4, Days: 6, Spread: 0.8, Digital: 0.9},
	{Name: "Bostadsanpassningsbidrag", Kind: "Ansökan", Dept: 0, Days: 42, Spread: 0.5, Digital: -0.8},
	{Name: "Parkeringstillstånd för rörelsehindrade", Kind: "Ansökan", Dept: 4, Days: 24, Spread: 0.4, Digital: -0.5},
	{Name: "Anmälan om värmepump", Kind: "Anmälan", Dept: 6, Days: 18, Spread: 0.5, Digital: 0.6},
	{Name: "Ansökan om plats i fritidshem", Kind: "Ansökan", Dept: 2, Days: 20, Spread: 0.5, Digital: 1.4},
	{Name: "Livsmedelsregistrering", Kind: "Anmälan", Dept: 6, Days: 14, Spread: 0.45, Digital: 0.3},
	{Name: "Nybyggnadskarta", Kind: "Begäran", Dept: 0, Days: 15, Spread: 0.4, Digital: 0.4},
	{Name: "Förhandsbesked", Kind: "Ansökan", Dept: 0, Days: 62, Spread: 0.5, Digital: -0.2},
	{Name: "Anmälan om avloppsanläggning", Kind: "Ansökan", Dept: 6, Days: 34, Spread: 0.5, Digital: -0.1},
	{Name: "Ansökan om hemtjänst", Kind: "Ansökan", Dept: 7, Days: 12, Spread: 0.45, Digital: -1.2},
	{Name: "Strandskyddsdispens", Kind: "Ansökan", Dept: 0, Days: 70, Spread: 0.45, Digital: -0.3},
	{Name: "Ansökan om bidrag till förening", Kind: "Ansökan", Dept: 5, Days: 30, Spread: 0.4, Digital: 0.8},
	{Name: "Serveringstillstånd", Kind: "Ansökan", Dept: 6, Days: 48, Spread: 0.4, Digital: 0.1},
	{Name: "Ansökan om skolbyte", Kind: "Ansökan", Dept: 2, Days: 16, Spread: 0.45, Digital: 0.9},
	// Below the 20 most common.
	{Name: "Rivningslov", Kind: "Ansökan", Dept: 0, Days: 33, Spread: 0.5, Digital: 0.0},
	{Name: "Marklov", Kind: "Ansökan", Dept: 0, Days: 36, Spread: 0.5, Digital: 0.0},
	{Name: "Anmälan om kompostering", Kind: "Anmälan", Dept: 6, Days: 10, Spread: 0.5, Digital: 0.7},
	{Name: "Ansökan om lokalbokning", Kind: "Ansökan", Dept: 5, Days: 5, Spread: 0.6, Digital: 1.5},
	{Name: "Tillstånd att använda offentlig plats", Kind: "Ansökan", Dept: 4, Days: 26, Spread: 0.45, Digital: 0.2},
	{Name: "Medborgarförslag", Kind: "Begäran", Dept: 3, Days: 95, Spread: 0.4, Digital: 0.3},
	{Name: "Ansökan om kulturstöd", Kind: "Ansökan", Dept: 5, Days: 40, Spread: 0.35, Digital: 0.6},
	{Name: "Tillstånd för tillfällig försäljning av tobak", Kind: "Ansökan", Dept: 6, Days: 28, Spread: 0.4, Digital: -0.2},
	{Name: "Ansökan om gravrätt", Kind: "Ansökan", Dept: 4, Days: 19, Spread: 0.4, Digital: -0.9},
	{Name: "Anmälan om hinder för avfallshämtning", Kind: "Anmälan", Dept: 4, Days: 4, Spread: 0.6, Digital: 0.5},
	{Name: "Ansökan om dispens för tung transport", Kind: "Ansökan", Dept: 4, Days: 11, Spread: 0.4, Digital: 0.4},
	{Name: "Lotteritillstånd", Kind: "Ansökan", Dept: 3, Days: 22, Spread: 0.4, Digital: -0.4},
}

func init() {
	// Zipf (s = 0.9) by rank; the long tail after rank 20 is damped so the
	// 20 most common types stay the same from month to month.
	for i := range caseTypes {
		w := 1 / math.Pow(float64(i+1), 0.9)
		if i >= 20 {
			w *= 0.45
		}
		caseTypes[i].Weight = w
	}
}

// Non-digital channels with their relative weights for applications and
// for other cases.
var (
	channelsDigital = []string{"E-tjänst", "Mina sidor"}
	channelsOther   = []string{"Post", "E-post", "Telefon", "Besök", "Papper"}
	channelWeights  = []float64{0.34, 0.30, 0.14, 0.14, 0.08}
)

// systems are the back-office systems rated in the yearly systemenkät,
// with the respondent groups that use them.
var systems = []struct {
	Name   string
	Groups []string
	// Quality is the system's offset from the municipality's mean score.
	Quality float64
	// Users is the relative number of respondents.
	Users int
}{
	{"Procapita", []string{"Handläggare", "Chef", "Omsorgspersonal"}, -0.35, 9},
	{"Ecos", []string{"Handläggare", "Inspektör"}, 0.1, 4},
	{"Platina", []string{"Handläggare", "Registrator", "Chef"}, -0.1, 7},
	{"W3D3", []string{"Registrator", "Handläggare"}, -0.5, 3},
	{"Visma", []string{"Chef", "Administratör", "Medarbetare"}, 0.25, 10},
	{"Public 360", []string{"Registrator", "Handläggare"}, 0.05, 5},
	{"Agresso", []string{"Ekonom", "Chef", "Administratör"}, -0.2, 6},
	{"Tieto Edu", []string{"Lärare", "Administratör", "Chef"}, -0.05, 9},
	{"ByggR", []string{"Handläggare", "Registrator"}, 0.3, 3},
	{"Heroma", []string{"Chef", "Medarbetare", "Administratör"}, 0.15, 8},
	{"Lifecare", []string{"Omsorgspersonal", "Handläggare"}, 0.4, 5},
	{"Office 365", []string{"Medarbetare", "Lärare", "Chef"}, 0.6, 12},
}

// eserviceSpec is one e-service in the catalogue.
type eserviceSpec struct {
	Name     string
	Category string
	Dept     int // index into departments
}

// eserviceCatalogue lists e-services in the order they are launched.
var eserviceCatalogue = []eserviceSpec{
	{"Felanmälan gata och park", "Trafik och infrastruktur", 4},
	{"Ansökan om förskoleplats", "Barn och utbildning", 2},
	{"Uppsägning av förskoleplats", "Barn och utbildning", 2},
	{"Ansökan om bygglov", "Bygga och bo", 0},
	{"Beställ nybyggnadskarta", "Bygga och bo", 0},
	{"Anmälan om värmepump", "Miljö och hälsa", 6},
	{"Ansökan om skolskjuts", "Barn och utbildning", 2},
	{"Ansökan om plats i fritidshem", "Barn och utbildning", 2},
	{"Synpunkter och klagomål", "Kommun och politik", 3},
	{"Begäran om allmän handling", "Kommun och politik", 3},
	{"Lokalbokning", "Uppleva och göra", 5},
	{"Ansökan om föreningsbidrag", "Uppleva och göra", 5},
	{"Anmälan om kompostering", "Miljö och hälsa", 6},
	{"Livsmedelsregistrering", "Miljö och hälsa", 6},
	{"Ansökan om skolbyte", "Barn och utbildning", 2},
	{"Medborgarförslag", "Kommun och politik", 3},
	{"Ansökan om färdtjänst", "Omsorg och hjälp", 7},
	{"Ansökan om parkeringstillstånd för rörelsehindrade", "Trafik och infrastruktur", 4},
	{"Anmälan om avloppsanläggning", "Miljö och hälsa", 6},
	{"Ansökan om försörjningsstöd", "Omsorg och hjälp", 1},
	{"Ansökan om bostadsanpassningsbidrag", "Bygga och bo", 0},
	{"Förhandsbesked för bygglov", "Bygga och bo", 0},
	{"Ansökan om strandskyddsdispens", "Bygga och bo", 0},
	{"Ansökan om serveringstillstånd", "Näringsliv och arbete", 6},
	{"Ansökan om hemtjänst", "Omsorg och hjälp", 7},
	{"Anmälan om frånvaro i skolan", "Barn och utbildning", 2},
	{"Ansökan om modersmålsundervisning", "Barn och utbildning", 2},
	{"Ansökan om tillstånd för offentlig plats", "Trafik och infrastruktur", 4},
	{"Ansökan om kulturstöd", "Uppleva och göra", 5},
	{"Anmälan om hinder för avfallshämtning", "Bygga och bo", 4},
	{"Ansökan om gravrätt", "Kommun och politik", 4},
	{"Ansökan om rivningslov", "Bygga och bo", 0},
	{"Ansökan om marklov", "Bygga och bo", 0},
	{"Ansökan om dispens för tung transport", "Trafik och infrastruktur", 4},
	{"Lotteritillstånd", "Kommun och politik", 3},
	{"Anmälan om tobaksförsäljning", "Näringsliv och arbete", 6},
	{"Anmälan om registrering av hund", "Miljö och hälsa", 6},
	{"Ansökan om sommarjobb för unga", "Näringsliv och arbete", 3},
	{"Intresseanmälan till kulturskolan", "Uppleva och göra", 5},
	{"Ansökan om kontaktperson", "Omsorg och hjälp", 1},
	{"Ansökan om ledsagarservice", "Omsorg och hjälp", 7},
	{"Ansökan om trygghetslarm", "Omsorg och hjälp", 7},
	{"Ansökan om särskilt boende", "Omsorg och hjälp", 7},
	{"Anmälan om oro för barn", "Omsorg och hjälp", 1},
	{"Ansökan om vuxenutbildning", "Barn och utbildning", 2},
	{"Ansökan om SFI", "Barn och utbildning", 2},
	{"Ansökan om barnomsorg på obekväm tid", "Barn och utbildning", 2},
	{"Ansökan om inackorderingstillägg", "Barn och utbildning", 2},
	{"Anmälan om bassängbad", "Miljö och hälsa", 6},
	{"Ansökan om tillstånd för brandfarlig vara", "Näringsliv och arbete", 3},
	{"Anmälan om hygienisk verksamhet", "Miljö och hälsa", 6},
	{"Ansökan om båtplats", "Uppleva och göra", 4},
	{"Beställning av sophämtning", "Bygga och bo", 4},
	{"Anmälan om tömning av slamavskiljare", "Bygga och bo", 4},
	{"Ansökan om borttagning av träd", "Trafik och infrastruktur", 4},
	{"Ansökan om gatukostnadsanstånd", "Bygga och bo", 4},
	{"Ansökan om ekonomiskt stöd till studieförbund", "Uppleva och göra", 5},
	{"Anmälan om evenemang", "Uppleva och göra", 5},
	{"Ansökan om bidrag till enskild väg", "Trafik och infrastruktur", 4},
	{"Anmälan om elevens skolmåltid", "Barn och utbildning", 2},
	{"Ansökan om uppehåll i sophämtning", "Bygga och bo", 4},
	{"Beställ kopia av bygglovshandlingar", "Bygga och bo", 0},
	{"Ansökan om bostad med särskild service", "Omsorg och hjälp", 1},
	{"Prenumeration på nämndhandlingar", "Kommun och politik", 3},
	{"Ansökan om stöd till praktikplats", "Näringsliv och arbete", 3},
	{"Anmälan om ändrad inkomst för förskoleavgift", "Barn och utbildning", 2},
	{"Ansökan om dagverksamhet", "Omsorg och hjälp", 7},
	{"Ansökan om matdistribution", "Omsorg och hjälp", 7},
	{"Ansökan om hemsjukvård", "Omsorg och hjälp", 7},
	{"Ansökan om bygglov för attefallshus", "Bygga och bo", 0},
}

// probeServices are the e-services whose availability Prometheus'
// blackbox exporter checks.
var probeServices = []struct {
	Name string
	Path string
	// Latency is the median probe duration in milliseconds at baseline.
	Latency float64
	// Maintenance is the weekday (0 = Sunday) and hour of the weekly
	// maintenance window.
	MaintDay, MaintHour int
}{
	{"Mina sidor", "mina-sidor", 420, 2, 5},
	{"Ansökan om förskoleplats", "forskoleplats", 360, 2, 5},
	{"Bygglov", "bygglov", 510, 3, 6},
	{"Felanmälan", "felanmalan", 280, 3, 6},
	{"Försörjningsstöd", "forsorjningsstod", 640, 4, 5},
	{"Skolskjuts", "skolskjuts", 330, 4, 5},
	{"Bokning av lokaler", "lokalbokning", 300, 2, 6},
	{"Synpunkter och klagomål", "synpunkter", 260, 3, 5},
}

// peerSets are the municipalities a tenant is compared with in Kolada,
// keyed by the tenant's kommunkod; other tenants get defaultPeers.
var peerSets = map[string][]string{
	"0120": {"0138", "0117", "0187", "0182"}, // Värmdö: Tyresö, Österåker, Vaxholm, Nacka
	"1481": {"1402", "1401", "1384", "1441"}, // Mölndal: Partille, Härryda, Kungsbacka, Lerum
	"0188": {"0382", "0191", "0181", "0192"}, // Norrtälje: Östhammar, Sigtuna, Södertälje, Nynäshamn
}

// peerCount is how many peers a tenant without a peer set gets.
const peerCount = 4

// peersOf are the municipalities code is compared with: its peer set, else
// the nearest codes of its county in the register (then of the
// neighbouring counties), so Kolada answers for real municipalities whose
// names the pages can show.
func peersOf(code string) []string {
	if ps, ok := peerSets[code]; ok {
		return ps
	}
	all := municipalities.All()
	county := code
	if len(county) > 2 {
		county = county[:2]
	}
	num := func(c string) int { n, _ := strconv.Atoi(c); return n }
	slices.SortStableFunc(all, func(a, b municipalities.Municipality) int {
		da, db := a.County != county, b.County != county
		if da != db {
			if da {
				return 1
			}
			return -1
		}
		return cmp.Compare(abs(num(a.Code)-num(code)), abs(num(b.Code)-num(code)))
	})
	var out []string
	for _, m := range all {
		if m.Code != code && len(out) < peerCount {
			out = append(out, m.Code)
		}
	}
	return out
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// inhabitants are the populations of the example strategies'
// municipalities, rounded, in the years of their strategies.
var inhabitants = map[string]int{
	"0120": 45000, // Värmdö
	"1481": 63000, // Mölndal
	"0188": 58000, // Norrtälje
}

// analysts write the demo's assessments; role accounts, not people.
var analysts = []string{"digitaliseringsstrateg", "it-chef", "verksamhetsutvecklare", "kvalitetscontroller"}
