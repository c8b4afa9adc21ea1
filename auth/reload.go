package auth

import (
	"context"
	"errors"
	"os"
	"slices"
)

// Reload reads the users file again. Users removed from it, and users
// whose password changed, are signed out. Each difference is reported to
// OnEvent with actor "users-file" (changes made with `malbild user` while
// the server runs are audited this way). On error the previous users stay.
func (a *Authenticator) Reload(ctx context.Context) error {
	a.fileMu.Lock()
	defer a.fileMu.Unlock()
	return a.reload(ctx, Event{Actor: "users-file"})
}

// reload reads the users file in force; the caller holds fileMu.
func (a *Authenticator) reload(ctx context.Context, base Event) error {
	file := a.cur().usersFile
	if file == "" {
		return nil
	}
	uf, err := LoadUsers(file)
	if err != nil {
		return err
	}
	a.swapUsers(ctx, byName(uf.Users), base)
	return nil
}

// swapUsers puts next in force, signs out the users removed or with a new
// password, and reports each difference to OnEvent on top of base.
func (a *Authenticator) swapUsers(ctx context.Context, next map[string]User, base Event) {
	a.mu.Lock()
	prev := a.users
	a.users = next
	a.mu.Unlock()
	for _, ev := range diffUsers(prev, next) {
		if ev.Action == "user.remove" || ev.Action == "user.password" {
			if err := a.sessions.deleteUser(ctx, ev.Subject, false, a.opts.Now()); err != nil {
				// Each replica's own check (password mark, user exists)
				// still refuses these sessions.
				a.opts.Logger.Warn("auth: sessions of a removed user or changed password not revoked in the store", "user", ev.Subject, "err", err)
			}
		}
		e := base
		e.Action, e.Subject, e.Before, e.After = ev.Action, ev.Subject, ev.Before, ev.After
		a.emit(ctx, e)
	}
}

// diffUsers lists what changed from prev to next, sorted by user name.
func diffUsers(prev, next map[string]User) []Event {
	var out []Event
	names := map[string]bool{}
	for n := range prev {
		names[n] = true
	}
	for n := range next {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	slices.Sort(sorted)
	for _, n := range sorted {
		p, had := prev[n]
		q, has := next[n]
		switch {
		case !had:
			out = append(out, Event{Action: "user.add", Subject: n, After: infoOf(q)})
		case !has:
			out = append(out, Event{Action: "user.remove", Subject: n, Before: infoOf(p)})
		default:
			if p.Role != q.Role || p.DisplayName != q.DisplayName || !slices.Equal(p.Owners, q.Owners) {
				out = append(out, Event{Action: "user.change", Subject: n, Before: infoOf(p), After: infoOf(q)})
			}
			if p.PasswordHash != q.PasswordHash {
				out = append(out, Event{Action: "user.password", Subject: n, Before: infoOf(p), After: infoOf(q)})
			}
		}
	}
	return out
}

// UpdateUsers changes the users file under a lock — re-read, changed by
// change, checked, written atomically — and reloads it; the differences
// are reported to OnEvent with by as the actor. A missing file is created.
func (a *Authenticator) UpdateUsers(ctx context.Context, by *Identity, remote string, change func(uf *UsersFile) error) error {
	a.fileMu.Lock()
	defer a.fileMu.Unlock()
	file := a.cur().usersFile
	if file == "" {
		return errors.New("no users file is configured (auth.users_file)")
	}
	uf, err := LoadUsers(file)
	if errors.Is(err, os.ErrNotExist) {
		uf, err = NewUsersFile(file), nil
	}
	if err != nil {
		return err
	}
	if err := change(uf); err != nil {
		return err
	}
	if err := uf.Save(); err != nil {
		return err
	}
	base := Event{Remote: remote}
	if by != nil {
		base.Actor, base.Role = by.Name, by.Role
	}
	return a.reload(ctx, base)
}

func (a *Authenticator) emit(ctx context.Context, e Event) {
	if a.opts.OnEvent != nil {
		a.opts.OnEvent(ctx, e)
	}
}
