package dashboards

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/malbild/malbild/examples"
	"github.com/malbild/malbild/internal/browsertest"
	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/strategy"
)

// varmdoEnv is the Värmdö example strategy with ten and a half years of
// monthly values, the demo's size.
func varmdoEnv(t *testing.T) *env {
	t.Helper()
	data, file, err := examples.Strategy("varmdo")
	if err != nil {
		t.Fatal(err)
	}
	st, err := strategy.Parse(file, data)
	if err != nil {
		t.Fatal(err)
	}
	e := startEnv(t, openStore(t, chtest.DSN(t)), []*strategy.Strategy{st}, openInternal)
	seedDemoSized(t, e, st)
	return e
}

// progressRows counts the rows of an indicator page's progress table.
func progressRows(body string) int {
	i := strings.Index(body, `<section aria-labelledby="utveckling">`)
	j := strings.Index(body[max(i, 0):], "</table>")
	if i < 0 || j < 0 {
		return -1
	}
	return strings.Count(body[i:i+j], "<tr>") - 1 // less the head row
}

// TestIndicatorTableByYear: a monthly indicator's table lists the end of
// each year and every target by default, every month on demand
// (?upplosning=manad), and an unknown resolution is a clear 400.
func TestIndicatorTableByYear(t *testing.T) {
	e := varmdoEnv(t)
	const path = "/indikator/andel-ansokningar-e-tjanst"
	code, _, body := e.get(path)
	if code != http.StatusOK {
		t.Fatalf("%s = %d", path, code)
	}
	// 126 months from December 2014 to May 2025: 12 year ends, the
	// baseline and two targets.
	if n := progressRows(body); n < 10 || n > 16 {
		t.Errorf("%s: %d rows in the table, want one per year and target (10–16)", path, n)
	}
	mustContain(t, "by year", body, `<th scope="row">december 2014</th>`, `<th scope="row">december 2024</th>`, `<th scope="row">maj 2025</th>`,
		`<th scope="row">december 2009</th>`, `<th scope="row">april 2013</th>`, // baseline and the 3-year target
		`href="/indikator/andel-ansokningar-e-tjanst?upplosning=manad#utveckling">Visa alla månader i tabellen (126 värden)</a>`,
		"vid varje års sista månad med värde, och vid varje mål")
	mustNotContain(t, "by year", body, `<th scope="row">januari 2020</th>`)
	// Its targets are all past: there is no forecast, so the chart has no
	// forecast series and no legend entry for one (it had "Prognos" and
	// "Prognosintervall", from a forecast of the latest value alone).
	const script = `<script type="application/json" id="diagram-andel-ansokningar-e-tjanst-data">`
	i := strings.Index(body, script)
	if i < 0 {
		t.Fatalf("%s: no chart options", path)
	}
	options := body[i : i+strings.Index(body[i:], "</script>")]
	mustNotContain(t, "chart without a forecast", options, "Prognos")
	mustContain(t, "chart without a forecast", options, "Utfall", "Målbana")

	code, _, body = e.get(path + "?upplosning=manad")
	if code != http.StatusOK {
		t.Fatalf("?upplosning=manad = %d", code)
	}
	if n := progressRows(body); n < 126 {
		t.Errorf("?upplosning=manad: %d rows, want every month (126 and more)", n)
	}
	mustContain(t, "by month", body, `<th scope="row">januari 2020</th>`, `href="/indikator/andel-ansokningar-e-tjanst#utveckling">Visa tabellen per år</a>`,
		`href="/indikator/andel-ansokningar-e-tjanst?lang=en&amp;upplosning=manad"`)
	_, _, body = e.get(path + "?upplosning=manad&lang=en")
	mustContain(t, "by month, English", body, `<th scope="row">January 2020</th>`, "Show the table by year")

	code, _, body = e.get(path + "?upplosning=vecka")
	if code != http.StatusBadRequest {
		t.Errorf("?upplosning=vecka = %d, want 400", code)
	}
	mustNotContain(t, "bad resolution", body, "<table")

	// A yearly indicator has no switch.
	e2 := newEnv(t, []*strategy.Strategy{testStrategy(t)})
	_, _, body = e2.get("/indikator/andel-digitala")
	mustNotContain(t, "yearly indicator", body, "upplosning=")
}

// TestTableScrollBoxes: every table sits in a scroll box that the
// keyboard can reach, named by the table's caption.
func TestTableScrollBoxes(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)}, openInternal)
	box := regexp.MustCompile(`<div class="table-scroll"([^>]*)>\s*<table[^>]*>\s*<caption[^>]*>([^<]*)</caption>`)
	for _, p := range []string{"/", "/ledning", "/indikator/andel-digitala", "/uppfoljning"} {
		_, _, body := e.get(p)
		ms := box.FindAllStringSubmatch(body, -1)
		if len(ms) == 0 || len(ms) != strings.Count(body, `class="table-scroll"`) {
			t.Errorf("%s: %d scroll boxes with a caption, %d in all", p, len(ms), strings.Count(body, `class="table-scroll"`))
		}
		for _, m := range ms {
			if want := fmt.Sprintf(` tabindex="0" role="region" aria-label="%s"`, m[2]); m[1] != want {
				t.Errorf("%s: scroll box %q, want %q", p, m[1], want)
			}
		}
	}
}

// tallEmptyRows lists the table rows taller than 100 px in which at least
// half the cells are mostly empty: their text fills less than 40 % of the
// cell's height.
const tallEmptyRowsJS = `Array.from(document.querySelectorAll("tr")).filter(tr => {
  const h = tr.getBoundingClientRect().height;
  if (h <= 100 || tr.cells.length < 2) return false;
  let empty = 0;
  for (const c of tr.cells) {
    const range = document.createRange();
    range.selectNodeContents(c);
    const content = range.getBoundingClientRect().height;
    if (content < 0.4 * c.getBoundingClientRect().height) empty++;
  }
  return empty * 2 >= tr.cells.length;
}).map(tr => Math.round(tr.getBoundingClientRect().height) + " px: " + tr.textContent.trim().replace(/\s+/g, " ").slice(0, 60))`

// captionsCutJS lists the table captions that reach past their scroll
// box's right edge (cut) or are squeezed into less than 80 % of its width
// (a word a line).
const captionsCutJS = `Array.from(document.querySelectorAll(".table-scroll")).filter(box => {
  const c = box.querySelector("caption"), b = box.getBoundingClientRect();
  if (!c || c.classList.contains("visually-hidden")) return false; // read aloud, not shown
  const r = c.getBoundingClientRect(), t = box.querySelector("table").getBoundingClientRect();
  return r.right > b.right + 1 || r.width < Math.min(0.8 * b.width, t.width) - 1;
}).map(box => Math.round(box.querySelector("caption").getBoundingClientRect().width) + " of " + Math.round(box.getBoundingClientRect().width) + " px: " + box.querySelector("caption").textContent)`

// TestTablesInBrowser: on a 390 px phone no table has tall, mostly empty
// rows and no caption is cut or squeezed; printed on A4 (182 mm between the margins: 688 CSS px) every
// table fits the page width.
func TestTablesInBrowser(t *testing.T) {
	needECharts(t)
	e := varmdoEnv(t)
	ctx := browsertest.Start(t)
	pages := []string{"/ledning", "/", "/indikator/andel-ansokningar-e-tjanst", "/indikator/andel-ansokningar-e-tjanst?upplosning=manad", "/uppfoljning"}
	browsertest.Do(t, ctx, "phone width", chromedp.EmulateViewport(390, 844))
	for _, p := range pages {
		browsertest.Navigate(t, ctx, e.http.URL+p)
		for _, r := range browsertest.Eval[[]string](t, ctx, tallEmptyRowsJS) {
			t.Errorf("%s at 390 px: a tall, mostly empty table row: %s", p, r)
		}
		for _, c := range browsertest.Eval[[]string](t, ctx, captionsCutJS) {
			t.Errorf("%s at 390 px: a table caption cut or squeezed: %s", p, c)
		}
	}
	const a4 = 688
	browsertest.Do(t, ctx, "print on A4", chromedp.EmulateViewport(a4, 1000), emulateMedia("print"))
	for _, p := range pages {
		browsertest.Navigate(t, ctx, e.http.URL+p)
		wide := browsertest.Eval[[]string](t, ctx, `Array.from(document.querySelectorAll("table")).filter(tb => {
  const r = tb.getBoundingClientRect(), box = tb.parentElement;
  return r.right > `+fmt.Sprint(a4)+` + 1 || box.scrollWidth > box.clientWidth + 1;
}).map(tb => Math.round(tb.getBoundingClientRect().width) + " px: " + (tb.caption ? tb.caption.textContent : ""))`)
		for _, w := range wide {
			t.Errorf("%s printed: a table wider than A4 (%d px): %s", p, a4, w)
		}
	}
	browsertest.Do(t, ctx, "screen again", emulateMedia(""))
}

// emulateMedia makes the page's CSS media type "print" (or, with "", the
// screen again).
func emulateMedia(media string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media})
		return err
	})
}

// TestTransposed: the maturity table by year has a row per dimension and
// a column per year.
func TestTransposed(t *testing.T) {
	tt := newTable("sv", "Mognadsindex år för år", "År", "Mognadsindex", "Enklare vardag för privatpersoner och företag")
	tt.Num[1], tt.Num[2] = true, true
	tt.add(txt("2024"), txt("60"), txt("55"))
	tt.add(txt("2025 (preliminärt)"), txt("62"))
	got := tt.Transposed("Område")
	if fmt.Sprint(got.Head) != "[Område 2024 2025 (preliminärt)]" || fmt.Sprint(got.Num) != "[false true true]" {
		t.Errorf("head %q num %v", got.Head, got.Num)
	}
	var rows []string
	for _, r := range got.Rows {
		var cs []string
		for _, c := range r.Cells {
			cs = append(cs, c.Text)
		}
		rows = append(rows, strings.Join(cs, "|"))
	}
	if want := "[Mognadsindex|60|62 Enklare vardag för privatpersoner och företag|55|–]"; fmt.Sprint(rows) != want {
		t.Errorf("rows %v, want %s", rows, want)
	}
	if got.Caption != tt.Caption || got.Stacks() {
		t.Errorf("caption %q, stacks %v", got.Caption, got.Stacks())
	}
}
