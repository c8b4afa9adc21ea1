package dashboards

import "strings"

// site is what ApplySite may change while the server runs.
type site struct {
	baseURL string
	contact Contact
}

// ApplySite puts a new public address (Options.BaseURL) and contact
// (Options.Contact) in force, as a configuration reload does. The pages and
// answers cached so far are dropped, since they show the old ones; the
// data read from the store is kept.
func (s *Server) ApplySite(baseURL string, c Contact) {
	s.site.Store(&site{baseURL: strings.TrimRight(baseURL, "/"), contact: c})
	s.mu.Lock()
	states := make([]*tenantState, 0, len(s.tenants))
	for _, ts := range s.tenants {
		states = append(states, ts)
	}
	s.mu.Unlock()
	for _, ts := range states {
		// Wait out a refresh in progress: it could put back a snapshot
		// whose cache was filled with the old site.
		ts.refresh.Lock()
		ts.mu.Lock()
		if sn := ts.snap; sn != nil {
			ts.snap = &snapshot{strat: sn.strat, version: sn.version, loaded: sn.loaded, stale: sn.stale, raw: sn.raw, eval: sn.eval}
		}
		ts.mu.Unlock()
		ts.refresh.Unlock()
	}
}

// siteNow returns the public address and contact in force.
func (s *Server) siteNow() *site {
	if st := s.site.Load(); st != nil {
		return st
	}
	return &site{baseURL: s.opts.BaseURL, contact: s.opts.Contact}
}
