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
	store, _, close, err = openSupervisedStore(ctx, cfg, log, chserver.SuperviseOptions{})
	return store, close, err
}

// openSupervisedStore is openStore that also returns the supervisor of
// the managed local ClickHouse (nil with clickhouse.url): it starts the
// server again whenever it dies, on the same port with the same password,
// so the store's connection pool reconnects by itself. sup's Options are
// filled from cfg; its other fields (backoff, clock, OnState) are kept.
func openSupervisedStore(ctx context.Context, cfg *config.Config, log *slog.Logger, sup chserver.SuperviseOptions) (store *clickhouse.Store, managed *chserver.Supervisor, close func(), err error) {
	dsn := ""
	if cfg.ClickHouse.URL == "" {
		sup.Options = chserver.Options{DataDir: cfg.ClickHouse.DataDir, Logger: log}
		managed, err = chserver.Supervise(ctx, sup)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("starting the managed local ClickHouse: %w", err)
		}
		dsn = managed.DSN("malbild")
		log.Info("managed ClickHouse ready", "addr", managed.Addr(), "data", managed.DataDir(), "pid", managed.State().Pid)
	} else if dsn, err = cfg.DSN(); err != nil {
		return nil, nil, nil, err
	}
	stopServer := func() {
		if managed != nil {
			managed.Stop()
		}
	}
	store, err = clickhouse.Open(ctx, dsn)
	if err != nil {
		stopServer()
		return nil, nil, nil, err
	}
	applied, err := store.Migrate(ctx)
	if err != nil {
		store.Close()
		stopServer()
		return nil, nil, nil, fmt.Errorf("migrating: %w", err)
	}
	if len(applied) > 0 {
		log.Info("schema migrated", "applied", applied)
	}
	return store, managed, func() { store.Close(); stopServer() }, nil
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
