package collectors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/malbild/malbild/strategy"
)

// serveState is what Serve runs: one loop per collector.
type serveState struct {
	ctx   context.Context
	wg    sync.WaitGroup
	loops map[string]*loopHandle
}

// loopHandle stops one collector's loop.
type loopHandle struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startLoop runs u's loop under st once after (if not nil) is closed: a
// changed collector's new loop starts when the old one has returned, so
// the two never run together. The caller holds r.mu.
func (r *Runner) startLoop(st *serveState, u runUnit, after <-chan struct{}) {
	ctx, cancel := context.WithCancel(st.ctx)
	h := &loopHandle{cancel: cancel, done: make(chan struct{})}
	st.loops[u.inst.Name] = h
	st.wg.Go(func() {
		defer close(h.done)
		defer cancel()
		if after != nil {
			select {
			case <-after:
			case <-ctx.Done():
				return
			}
		}
		r.loop(ctx, u)
	})
}

// current returns the collectors in force.
func (r *Runner) current() []runUnit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.units
}

// tenants returns the strategies in force by kommunkod. The map is never
// changed once stored.
func (r *Runner) tenants() map[string]*strategy.Strategy { return *r.byTenant.Load() }

func tenantsOf(ss []*strategy.Strategy) *map[string]*strategy.Strategy {
	m := make(map[string]*strategy.Strategy, len(ss))
	for _, s := range ss {
		m[s.Municipality.Code] = s
	}
	return &m
}

// build makes the units of insts, reusing the collector of every unit in
// keep whose instance is unchanged. All problems are reported together.
func (r *Runner) build(insts []Instance, strategies []*strategy.Strategy, keep []runUnit) ([]runUnit, error) {
	old := map[string]runUnit{}
	for _, u := range keep {
		old[u.inst.Name] = u
	}
	var (
		units []runUnit
		errs  []error
	)
	seen := map[string]bool{}
	for _, inst := range insts {
		if seen[inst.Name] {
			errs = append(errs, fmt.Errorf("collector %q defined twice", inst.Name))
			continue
		}
		seen[inst.Name] = true
		if inst.Tenant == "" && len(strategies) == 1 {
			inst.Tenant = strategies[0].Municipality.Code
		}
		if u, ok := old[inst.Name]; ok && sameInstance(u.inst, inst) {
			units = append(units, u)
			continue
		}
		c, err := r.cfg.Build(inst)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		units = append(units, runUnit{inst: inst, coll: c})
	}
	return units, errors.Join(errs...)
}

// sameInstance reports whether a and b configure the same collector: the
// same settings and options, wherever in the file they stand.
func sameInstance(a, b Instance) bool {
	if a.Name != b.Name || a.Kind != b.Kind || a.Tenant != b.Tenant || a.Schedule != b.Schedule ||
		a.Timeout != b.Timeout || a.File != b.File || a.StateDir != b.StateDir {
		return false
	}
	return bytes.Equal(nodeText(a.Options), nodeText(b.Options))
}

// nodeText is n as YAML, without positions and comments.
func nodeText(n *yaml.Node) []byte {
	if n == nil {
		return nil
	}
	b, err := yaml.Marshal(stripped(n))
	if err != nil {
		return []byte(fmt.Sprintf("unencodable %p", n)) // never equal to another
	}
	return b
}

func stripped(n *yaml.Node) *yaml.Node {
	c := *n
	c.Line, c.Column = 0, 0
	c.HeadComment, c.LineComment, c.FootComment = "", "", ""
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c.Content[i] = stripped(k)
	}
	return &c
}

// Changes says what ApplyConfig did, by collector name.
type Changes struct {
	Added, Removed, Restarted []string
}

// ApplyConfig puts new collector instances and strategies in force, the
// way a config reload needs: collectors whose configuration is unchanged
// keep running undisturbed (a run in progress goes on), changed ones are
// stopped and started again with their new configuration, removed ones are
// stopped, new ones are started. New strategies count from each
// collector's next run. On a build error nothing changes. It does not
// wait for stopped collectors to return.
func (r *Runner) ApplyConfig(insts []Instance, strategies []*strategy.Strategy) (Changes, error) {
	r.applyMu.Lock()
	defer r.applyMu.Unlock()
	var ch Changes
	units, err := r.build(insts, strategies, r.current())
	if err != nil {
		return ch, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	next := map[string]runUnit{}
	for _, u := range units {
		next[u.inst.Name] = u
	}
	stopped := map[string]<-chan struct{}{}
	for _, u := range r.units {
		n, ok := next[u.inst.Name]
		switch {
		case !ok:
			ch.Removed = append(ch.Removed, u.inst.Name)
			r.metrics.forget(u.inst.Name)
		case !sameInstance(n.inst, u.inst): // build made a new collector
			ch.Restarted = append(ch.Restarted, u.inst.Name)
		default:
			continue
		}
		if st := r.serving; st != nil {
			if h := st.loops[u.inst.Name]; h != nil {
				h.cancel()
				stopped[u.inst.Name] = h.done
				delete(st.loops, u.inst.Name)
			}
		}
	}
	had := map[string]bool{}
	for _, u := range r.units {
		had[u.inst.Name] = true
	}
	for _, u := range units {
		if !had[u.inst.Name] {
			ch.Added = append(ch.Added, u.inst.Name)
			r.metrics.init(u.inst.Name)
		}
		if st := r.serving; st != nil && st.loops[u.inst.Name] == nil {
			r.startLoop(st, u, stopped[u.inst.Name])
		}
	}
	r.units = units
	r.byTenant.Store(tenantsOf(strategies))
	return ch, nil
}
