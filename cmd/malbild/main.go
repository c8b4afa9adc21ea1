// Command malbild follows a municipality's digitalisation strategy: it
// collects the data behind the strategy's indicators into ClickHouse and
// serves dashboards for leadership, IT staff and citizens.
//
// This package only wires: flags, config, and the packages that do the work.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

var version = "dev"

const usage = `Usage: malbild <command> [flags]

Commands:
  serve     run the collectors on their schedules and serve the dashboards
  collect   run collectors (--once, --only NAME, --dry-run, --from/--to)
  migrate   apply the ClickHouse schema
  check     validate config and strategy files (file:line for each problem)
  demo      start a local ClickHouse, load a strategy with demo data and serve it
  user      manage the users file (add, passwd, list, remove)
  version   print the version

Global flags: --config malbild.yaml, and every setting as MALBILD_* environment
variables (see "malbild <command> --help").
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmds := map[string]func(context.Context, []string, io.Reader, io.Writer, io.Writer) error{
		"serve":   cmdServe,
		"collect": cmdCollect,
		"migrate": cmdMigrate,
		"check":   cmdCheck,
		"demo":    cmdDemo,
		"user":    cmdUser,
		"version": func(context.Context, []string, io.Reader, io.Writer, io.Writer) error {
			fmt.Fprintf(stdout, "malbild %s\n", version)
			return nil
		},
	}
	name := args[0]
	if name == "-h" || name == "--help" || name == "help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, ok := cmds[name]
	if !ok {
		fmt.Fprintf(stderr, "malbild: unknown command %q\n\n%s", name, usage)
		return 2
	}
	if err := cmd(ctx, args[1:], stdin, stdout, stderr); err != nil {
		if err == errUsage {
			return 2
		}
		if err == errSilent {
			return 1
		}
		fmt.Fprintf(stderr, "malbild %s: %v\n", name, err)
		return 1
	}
	return 0
}
