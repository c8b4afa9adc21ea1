package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/config"
	"github.com/malbild/malbild/strategy"
)

// cmdCheck validates config and strategy files. With no files it checks the
// config and the strategies it names.
func cmdCheck(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	g := newFlags("check", stderr)
	g.fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: malbild check [FILE...]\n\nValidates malbild.yaml and strategy files; prints file:line: message for each problem.")
		g.fs.PrintDefaults()
	}
	if err := g.parse(args); err != nil {
		return err
	}
	files := g.fs.Args()
	failed := false
	report := func(err error) {
		failed = true
		fmt.Fprintln(stderr, err)
	}
	if len(files) == 0 {
		cfg, err := g.load()
		if err != nil {
			report(err)
			return errSilent
		}
		if err := checkOIDC(cfg); err != nil { // oidc.go
			report(err)
		} else if cfg.File != "" {
			fmt.Fprintf(stdout, "%s: ok (%d collectors)\n", cfg.File, len(cfg.Collectors))
		}
		files = cfg.Strategies
		if cfg.Auth.UsersFile != "" {
			files = append(files, cfg.Auth.UsersFile)
		}
		if len(files) == 0 && cfg.File == "" {
			fmt.Fprintln(stderr, "nothing to check: give files, or a --config that names strategies")
			return errUsage
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			report(err)
			continue
		}
		if hasTopKey(data, "users") {
			u, err := auth.ParseUsers(f, data)
			if err != nil {
				report(err)
				continue
			}
			fmt.Fprintf(stdout, "%s: ok (%d users)\n", f, len(u.Users))
			continue
		}
		if hasTopKey(data, "municipality") {
			s, err := strategy.Parse(f, data)
			if err != nil {
				report(err)
				continue
			}
			fmt.Fprintf(stdout, "%s: ok (%s, %d goals, %d indicators)\n", f, s.Municipality.Name, len(s.Goals()), len(s.Indicators()))
			continue
		}
		cfg, err := config.Parse(f, data)
		if err != nil {
			report(err)
			continue
		}
		if err := checkOIDCFile(cfg); err != nil { // oidc.go
			report(err)
			continue
		}
		fmt.Fprintf(stdout, "%s: ok (%d collectors)\n", f, len(cfg.Collectors))
	}
	if failed {
		return errSilent
	}
	return nil
}

// hasTopKey tells the kinds of files apart: strategies name their
// municipality at the top level, users files their users, and anything
// else is a config file.
func hasTopKey(data []byte, key string) bool {
	for _, line := range bytes.Split(data, []byte("\n")) {
		if bytes.HasPrefix(line, []byte(key+":")) {
			return true
		}
	}
	return false
}
