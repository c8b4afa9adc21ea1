package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/malbild/malbild/chserver"
	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/config"
)

// openStore connects to the configured ClickHouse, or starts the managed
// local one when none is configured, and applies the schema. close stops
// what it started.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (store *clickhouse.Store, close func(), err error) {
	var srv *chserver.Server
	dsn := ""
	if cfg.ClickHouse.URL == "" {
		srv, err = chserver.Start(ctx, chserver.Options{DataDir: cfg.ClickHouse.DataDir, Logger: log})
		if err != nil {
			return nil, nil, fmt.Errorf("starting the managed local ClickHouse: %w", err)
		}
		dsn = srv.DSN("malbild")
		log.Info("managed ClickHouse ready", "addr", srv.Addr(), "data", srv.DataDir())
	} else if dsn, err = cfg.DSN(); err != nil {
		return nil, nil, err
	}
	stopServer := func() {
		if srv != nil {
			srv.Stop()
		}
	}
	store, err = clickhouse.Open(ctx, dsn)
	if err != nil {
		stopServer()
		return nil, nil, err
	}
	applied, err := store.Migrate(ctx)
	if err != nil {
		store.Close()
		stopServer()
		return nil, nil, fmt.Errorf("migrating: %w", err)
	}
	if len(applied) > 0 {
		log.Info("schema migrated", "applied", applied)
	}
	return store, func() { store.Close(); stopServer() }, nil
}

// cmdMigrate applies the schema and reports what it did.
func cmdMigrate(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	g := newFlags("migrate", stderr)
	if err := g.parse(args); err != nil {
		return err
	}
	cfg, err := g.load()
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	var srv *chserver.Server
	dsn := ""
	if cfg.ClickHouse.URL == "" {
		if srv, err = chserver.Start(ctx, chserver.Options{DataDir: cfg.ClickHouse.DataDir, Logger: log}); err != nil {
			return err
		}
		defer srv.Stop()
		dsn = srv.DSN("malbild")
	} else if dsn, err = cfg.DSN(); err != nil {
		return err
	}
	store, err := clickhouse.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer store.Close()
	applied, err := store.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "schema up to date")
	}
	for _, a := range applied {
		fmt.Fprintln(stdout, "applied", a)
	}
	return nil
}
