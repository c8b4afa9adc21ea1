package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/config"
	"github.com/malbild/malbild/dashboards"
	"github.com/malbild/malbild/followup"
)

const userUsage = `Usage: malbild user <add|passwd|list|remove> [NAME] [flags]

Manages the users file (auth.users_file in malbild.yaml, MALBILD_USERS_FILE
or --users-file). Passwords are read from standard input, one line (asked
twice on a terminal), never from the command line.

  malbild user add NAME --role viewer|editor|admin [--display-name "Anna A"] [--owners "IT-avdelningen,Kultur"] [--no-password]
  malbild user passwd NAME
  malbild user list
  malbild user remove NAME

A running server notices the change, reloads the file and records it in
the audit trail.
`

// cmdUser manages the users file.
func cmdUser(_ context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	g := newFlags("user", stderr)
	role := g.fs.String("role", "", "role of a new user: viewer, editor or admin")
	display := g.fs.String("display-name", "", "display name of a new user")
	owners := g.fs.String("owners", "", "comma-separated owners (Goal.Owner, Indicator.Owner) the user writes for")
	noPassword := g.fs.Bool("no-password", false, "add the user without a password (sign-in through the trusted header only)")
	cost := g.fs.Int("cost", auth.DefaultCost, "bcrypt cost of the password hash (10–16)")
	g.fs.Usage = func() {
		fmt.Fprint(stderr, userUsage, "\nFlags:\n")
		g.fs.PrintDefaults()
	}
	if err := g.parse(args); err != nil {
		return err
	}
	rest := g.fs.Args()
	if len(rest) == 0 {
		g.fs.Usage()
		return errUsage
	}
	if *cost < 10 || *cost > 16 {
		return fmt.Errorf("--cost %d: want 10–16", *cost)
	}
	cfg, err := g.load()
	if err != nil {
		return err
	}
	path := cfg.Auth.UsersFile
	if path == "" {
		return errors.New("no users file: set auth.users_file in malbild.yaml, MALBILD_USERS_FILE or --users-file")
	}
	sub, rest := rest[0], rest[1:]
	needName := func() (string, error) {
		if len(rest) != 1 {
			g.fs.Usage()
			return "", errUsage
		}
		name := strings.ToLower(strings.TrimSpace(rest[0]))
		return name, auth.CheckName(name)
	}
	in := bufio.NewReader(stdin)
	switch sub {
	case "add":
		name, err := needName()
		if err != nil {
			return err
		}
		u := auth.User{Name: name, DisplayName: strings.TrimSpace(*display), Role: auth.Role(*role)}
		for _, o := range strings.Split(*owners, ",") {
			if o = strings.TrimSpace(o); o != "" {
				u.Owners = append(u.Owners, o)
			}
		}
		if !u.Role.Valid() {
			return fmt.Errorf("--role %q: want viewer, editor or admin", *role)
		}
		uf, err := auth.LoadUsers(path)
		if errors.Is(err, os.ErrNotExist) {
			uf, err = auth.NewUsersFile(path), nil
		}
		if err != nil {
			return err
		}
		if uf.User(name) != nil {
			return fmt.Errorf("user %s already exists in %s (use passwd to change the password)", name, path)
		}
		if !*noPassword {
			if u.PasswordHash, err = readHash(in, stdin, stderr, *cost); err != nil {
				return err
			}
		}
		if err := uf.Add(u); err != nil {
			return err
		}
		if err := uf.Save(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added %s (%s) to %s\n", name, u.Role, path)
	case "passwd":
		name, err := needName()
		if err != nil {
			return err
		}
		uf, err := auth.LoadUsers(path)
		if err != nil {
			return err
		}
		if uf.User(name) == nil {
			return fmt.Errorf("no user %s in %s", name, path)
		}
		h, err := readHash(in, stdin, stderr, *cost)
		if err != nil {
			return err
		}
		if err := uf.SetPasswordHash(name, h); err != nil {
			return err
		}
		if err := uf.Save(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "changed the password of %s in %s\n", name, path)
	case "remove":
		name, err := needName()
		if err != nil {
			return err
		}
		uf, err := auth.LoadUsers(path)
		if err != nil {
			return err
		}
		if err := uf.Remove(name); err != nil {
			return fmt.Errorf("%w in %s", err, path)
		}
		if err := uf.Save(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "removed %s from %s\n", name, path)
	case "list":
		if len(rest) != 0 {
			g.fs.Usage()
			return errUsage
		}
		uf, err := auth.LoadUsers(path)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tDISPLAY NAME\tOWNERS\tPASSWORD")
		for _, u := range uf.Users {
			pw := "yes"
			if u.PasswordHash == "" {
				pw = "no (trusted header only)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, u.DisplayName, strings.Join(u.Owners, ", "), pw)
		}
		return tw.Flush()
	default:
		fmt.Fprintf(stderr, "malbild user: unknown subcommand %q\n\n", sub)
		g.fs.Usage()
		return errUsage
	}
	return nil
}

// readHash reads a new password from standard input — one line, or on a
// terminal the same line twice after a prompt — and hashes it.
func readHash(in *bufio.Reader, stdin io.Reader, stderr io.Writer, cost int) (string, error) {
	tty := isTerminalReader(stdin)
	line := func(prompt string) (string, error) {
		if tty {
			fmt.Fprint(stderr, prompt)
		}
		s, err := in.ReadString('\n')
		if err != nil && (err != io.EOF || s == "") {
			return "", errors.New("no password on standard input (give it as one line)")
		}
		return strings.TrimRight(s, "\r\n"), nil
	}
	pw, err := line("New password: ")
	if err != nil {
		return "", err
	}
	if tty {
		again, err := line("Repeat it: ")
		if err != nil {
			return "", err
		}
		if again != pw {
			return "", errors.New("the passwords differ")
		}
	}
	return auth.HashPassword(pw, cost)
}

func isTerminalReader(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Wiring for serve and demo, kept next to the user command because both
// are about users:
//
//	a, err := newAuthenticator(cfg, store, log)
//	dash, err := dashboards.New(dashboards.Options{..., Authorizer: a.Authorizer})
//	handler, err := mountFollowup(ctx, cfg, a, dash, store, log) // serve this instead of dash.Handler()
//
// and give a.UsersFile() a reload watch of its own that calls a.Reload(ctx)
// when it changes (that also audits `malbild user` changes); a config
// reload calls a.ApplyConfig(ctx, authOptions(cfg)).

// newAuthenticator builds sign-in from cfg.Auth: the users file, the
// trusted header, sessions (cookies Secure unless auth.cookie_secure is
// false) and the audit hook.
func newAuthenticator(cfg *config.Config, store followup.AuditStore, log *slog.Logger) (*auth.Authenticator, error) {
	return newAuthenticatorAt(cfg, store, log, nil)
}

// newAuthenticatorAt is newAuthenticator on the clock now (nil: time.Now).
func newAuthenticatorAt(cfg *config.Config, store followup.AuditStore, log *slog.Logger, now func() time.Time) (*auth.Authenticator, error) {
	o := authOptions(cfg)
	o.Now = now
	o.Logger, o.OnEvent = log, followup.AuthEvents(store, log, nil)
	if cs, ok := store.(*clickhouse.Store); ok {
		// Sessions and sign-in limits shared by every serve process.
		o.Store = sessionStore{cs}
	}
	oidc, err := oidcOptions(cfg, os.LookupEnv) // oidc.go; applied at start only
	if err != nil {
		return nil, err
	}
	o.OIDC = oidc
	return auth.New(o)
}

// authOptions are the settings of cfg.Auth, the part of auth.Options a
// reload applies (auth.Authenticator.ApplyConfig).
func authOptions(cfg *config.Config) auth.Options {
	secure := true
	if cfg.Auth.CookieSecure != nil {
		secure = *cfg.Auth.CookieSecure
	}
	th := cfg.Auth.TrustedHeader
	return auth.Options{
		UsersFile: cfg.Auth.UsersFile, TrustedHeader: th.Header, Proxies: th.Proxies, HeaderRole: auth.Role(th.Role),
		AllEditors: cfg.Auth.AllEditors, SessionTTL: cfg.Auth.SessionTTL, CookieSecure: secure,
	}
}

// mountFollowup mounts the follow-up workflow and the sign-in pages into
// dash, which must have been built with a.Authorizer, and returns the
// handler to serve: dash's, with anonymous browsers sent from internal
// pages to /logga-in. The workflow's audit journal lives in
// STATE_DIR/audit-journal; what it holds is written to the audit trail at
// start and every minute until ctx ends.
func mountFollowup(ctx context.Context, cfg *config.Config, a *auth.Authenticator, dash *dashboards.Server, store followup.Store, log *slog.Logger) (http.Handler, error) {
	state := cfg.StateDir
	if state == "" {
		state = filepath.Join(cfg.DataDir, "state")
	}
	svc, err := followup.New(followup.Options{Store: store, Auth: a, Site: dash, Logger: log,
		AuditJournal: filepath.Join(state, "audit-journal")})
	if err != nil {
		return nil, err
	}
	go func() {
		tick := time.NewTicker(time.Minute)
		defer tick.Stop()
		for {
			if err := svc.Reconcile(ctx); err != nil {
				log.Warn("audit journal", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return a.RedirectUnauthorized(dash.Handler(), "/logga-in"), nil
}
