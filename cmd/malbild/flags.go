package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/malbild/malbild/config"
)

var (
	errUsage  = errors.New("usage")
	errSilent = errors.New("reported") // the command printed its own errors
)

// globalFlags are the flags every command that reads the config takes.
type globalFlags struct {
	fs     *pflag.FlagSet
	config string
}

func newFlags(name string, stderr io.Writer) *globalFlags {
	g := &globalFlags{fs: pflag.NewFlagSet(name, pflag.ContinueOnError)}
	g.fs.SetOutput(stderr)
	g.fs.StringVar(&g.config, "config", envOr("MALBILD_CONFIG", ""), "config file (default malbild.yaml if it exists; env MALBILD_CONFIG)")
	for _, s := range config.Settings {
		g.fs.String(s.Flag, "", fmt.Sprintf("%s (env %s)", s.Usage, s.Env))
	}
	return g
}

func (g *globalFlags) parse(args []string) error {
	if err := g.fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return errUsage
		}
		return err
	}
	return nil
}

// load reads the config file (if any) and applies environment and flags.
func (g *globalFlags) load() (*config.Config, error) {
	path := g.config
	if path == "" {
		if _, err := os.Stat("malbild.yaml"); err == nil {
			path = "malbild.yaml"
		}
	}
	cfg := config.Default()
	if path != "" {
		var err error
		if cfg, err = config.Load(path); err != nil {
			return nil, err
		}
	}
	given := map[string]string{}
	g.fs.Visit(func(f *pflag.Flag) { given[f.Name] = f.Value.String() })
	if err := cfg.Override(os.LookupEnv, given); err != nil {
		return nil, err
	}
	return cfg, nil
}

func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

// newLogger builds the slog logger: text on a terminal, JSON otherwise,
// unless the config says which.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(cfg.Log.Level)))
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.Log.Format
	if format == "" {
		format = "json"
		if isTerminal(w) {
			format = "text"
		}
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
