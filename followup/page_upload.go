package followup

import (
	"errors"
	"net/http"
	"path/filepath"

	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

type uploadView struct {
	chrome
	Action, TemplateURL string
	Comment             string
	Problems            []string
	Done                string
	// PerIndicator says how many values each indicator got, with a link to
	// its page; Written shows the first of them (WrittenNote says so).
	PerIndicator []uploadedRow
	Written      []valueRow
	WrittenNote  string
}

type uploadedRow struct {
	Title, Count, Href string
}

func (s *Service) uploadView(q *req) *uploadView {
	return &uploadView{chrome: s.chrome(q, "upload"), Action: q.url("/uppfoljning/uppladdning"), TemplateURL: q.url("/uppfoljning/mall.csv")}
}

// serveUpload shows the upload form.
func (s *Service) serveUpload(w http.ResponseWriter, r *http.Request, q *req) {
	s.render(w, r, q, http.StatusOK, "upload", tr(q.lang, "upload_title"), s.uploadView(q))
}

// postUpload writes the values of an uploaded series file.
func (s *Service) postUpload(w http.ResponseWriter, r *http.Request, q *req) {
	v := s.uploadView(q)
	v.Comment = r.PostFormValue("kommentar")
	fail := func(status int, err *Error) {
		for _, p := range err.Problems {
			v.Problems = append(v.Problems, p.In(q.lang))
		}
		s.render(w, r, q, status, "upload", tr(q.lang, "upload_title"), v)
	}
	var files []string
	if r.MultipartForm != nil {
		for _, fh := range r.MultipartForm.File["fil"] {
			files = append(files, fh.Filename)
		}
	}
	if len(files) != 1 {
		fail(http.StatusBadRequest, refuse(http.StatusBadRequest, "Välj en fil att ladda upp.", "Choose a file to upload."))
		return
	}
	fh := r.MultipartForm.File["fil"][0]
	if fh.Size > s.opts.MaxUpload {
		fail(http.StatusRequestEntityTooLarge, refuse(http.StatusRequestEntityTooLarge, "Filen är för stor.", "The file is too large."))
		return
	}
	f, err := fh.Open()
	if err != nil {
		s.fail(w, r, q, err)
		return
	}
	defer f.Close()
	name := filepath.Base(filepath.ToSlash(fh.Filename)) // checked by Upload
	obs, err := s.Upload(r.Context(), q.st, q.who, q.remote, name, f, v.Comment)
	var fe *Error
	if errors.As(err, &fe) && fe.Status != http.StatusNotFound {
		fail(fe.Status, fe)
		return
	}
	if err != nil {
		s.fail(w, r, q, err)
		return
	}
	v.Comment = ""
	v.Done = trf(q.lang, "upload_done", countText(len(obs), q.lang))
	// A file can hold tens of thousands of values: the page shows how many
	// each indicator got and the first few, and links to the indicators'
	// pages, which list them all in pages.
	per := map[string]int{}
	var order []string
	for _, o := range obs {
		if per[o.Indicator] == 0 {
			order = append(order, o.Indicator)
		}
		per[o.Indicator]++
	}
	due := progress.ClosedReportPeriod(q.st.Rhythm, s.opts.Now())
	for _, k := range order {
		row := uploadedRow{Title: k, Count: countText(per[k], q.lang)}
		if ind := q.st.Indicator(k); ind != nil {
			row.Title = ind.Title.In(q.lang)
			row.Href = q.url("/uppfoljning/indikator/"+ind.ID+"/"+due.String()) + "#varden"
		}
		v.PerIndicator = append(v.PerIndicator, row)
	}
	for i, o := range obs {
		if i == valuesPage {
			v.WrittenNote = trf(q.lang, "upload_first", valuesPage, countText(len(obs), q.lang))
			break
		}
		unit, title := units(q, o.Indicator), o.Indicator
		if ind := q.st.Indicator(o.Indicator); ind != nil {
			title = ind.Title.In(q.lang)
		}
		v.Written = append(v.Written, valueRow{Period: o.Period.Label(q.lang) + " · " + title, Dimension: dimensionText(o.Dimension, q.lang),
			Value: progress.FormatValue(o.Value, unit, q.lang), Comment: o.Comment, Author: o.Author})
	}
	s.render(w, r, q, http.StatusOK, "upload", tr(q.lang, "upload_title"), v)
}

// serveTemplateCSV downloads the series template with the strategy's
// indicators, one example row each for the period due.
func (s *Service) serveTemplateCSV(w http.ResponseWriter, r *http.Request, q *req) {
	head := []string{"indikator", "period", "värde", "dimension", "kommentar"}
	if q.lang == "en" {
		head = []string{"indicator", "period", "value", "dimension", "comment"}
	}
	per := progress.ClosedReportPeriod(q.st.Rhythm, s.opts.Now())
	var rows [][]string
	seen := map[string]bool{}
	for _, ind := range q.st.Indicators() {
		k := valueKey(ind)
		if seen[k] || (ind.Source.Measure != "" || ind.Source.Kolada != "") {
			continue
		}
		seen[k] = true
		rows = append(rows, []string{k, per.String(), "", "", ""})
	}
	if err := writeCSV(w, "serier-"+q.st.Municipality.Code+".csv", head, rows); err != nil {
		s.log.Warn("followup: writing the template failed", "err", err)
	}
}

// units is the unit of the indicator a value key feeds.
func units(q *req, key string) strategy.Unit {
	for _, ind := range q.st.Indicators() {
		if valueKey(ind) == key {
			return ind.Unit
		}
	}
	return ""
}
