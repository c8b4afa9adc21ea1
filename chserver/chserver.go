// Package chserver runs clickhouse-server from PATH as a child process:
// Målbild's managed local ClickHouse, and the throwaway servers tests use.
//
// The server listens on loopback only, and its default user has a
// password: generated at the first start, kept in DataDir/password (mode
// 0600, like the directory itself 0700), so another local user can reach
// neither the port nor the files past Målbild's sign-in.
package chserver

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNotInstalled is returned when clickhouse-server is not on PATH.
var ErrNotInstalled = errors.New("clickhouse-server not found on PATH: install it with `apt-get install clickhouse-server`, " +
	"or point Målbild at an existing server with --clickhouse clickhouse://user@host:9000/db (or MALBILD_CLICKHOUSE)")

// Options configure a managed server.
type Options struct {
	// Binary is the server executable; default "clickhouse-server" from PATH.
	Binary string
	// DataDir holds the server's data, config, log and password. It is
	// created if missing (mode 0700; an existing one loses group and other
	// permissions) and kept after Stop.
	DataDir string
	// TCPPort and HTTPPort are the loopback ports; 0 picks free ones.
	TCPPort, HTTPPort int
	// StartTimeout bounds the wait until the server answers (default 60s).
	StartTimeout time.Duration
	Logger       *slog.Logger
}

// Server is a running clickhouse-server child process.
type Server struct {
	opts     Options
	password string
	cmd      *exec.Cmd
	done     chan struct{}
	waitErr  error
	logFile  *os.File
	stopOnce sync.Once
}

// Start writes a config under opts.DataDir, starts clickhouse-server on
// loopback and waits until it answers. The password of its user is read
// from DataDir/password, or generated there at the first start.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Binary == "" {
		opts.Binary = "clickhouse-server"
	}
	bin, err := exec.LookPath(opts.Binary)
	if err != nil {
		return nil, ErrNotInstalled
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 60 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	dir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, err
	}
	opts.DataDir = dir
	for _, p := range []*int{&opts.TCPPort, &opts.HTTPPort} {
		if *p == 0 {
			if *p, err = freePort(); err != nil {
				return nil, fmt.Errorf("finding a free port: %w", err)
			}
		}
	}
	if err := privateDir(dir, opts.Logger); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		return nil, fmt.Errorf("creating ClickHouse data directory: %w", err)
	}
	password, err := loadPassword(filepath.Join(dir, PasswordFile))
	if err != nil {
		return nil, err
	}
	if err := writeConfig(dir, opts.TCPPort, opts.HTTPPort, password); err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(filepath.Join(dir, "clickhouse-server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--config-file="+filepath.Join(dir, "config.xml"))
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Own process group, so a terminal's Ctrl-C reaches us and we stop the
	// server in order; and a signal if we die without stopping it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	s := &Server{opts: opts, password: password, cmd: cmd, done: make(chan struct{}), logFile: logFile}
	go func() { s.waitErr = cmd.Wait(); close(s.done) }()
	opts.Logger.Info("starting managed ClickHouse", "binary", bin, "data", dir, "tcp_port", opts.TCPPort, "pid", cmd.Process.Pid)
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Addr is the native-protocol address, host:port.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.opts.TCPPort) }

// HTTPAddr is the HTTP interface's address, host:port.
func (s *Server) HTTPAddr() string { return fmt.Sprintf("127.0.0.1:%d", s.opts.HTTPPort) }

// DSN returns a DSN for database db on this server, with the user and
// its password. It is a secret: do not log it.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("clickhouse://%s:%s@%s/%s", User, s.password, s.Addr(), db)
}

// User is the server's only user; its password is Password.
const User = "default"

// Password is the password of User, for clients such as the HTTP
// interface (basic authentication).
func (s *Server) Password() string { return s.password }

// DataDir is where the server keeps its data.
func (s *Server) DataDir() string { return s.opts.DataDir }

// Pid is the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Done is closed when the server process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.StartTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	url := "http://" + s.HTTPAddr() + "/ping"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.SetBasicAuth(User, s.password)
		if resp, err := client.Do(req); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.HasPrefix(string(body), "Ok") {
				return nil
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("clickhouse-server exited during start-up (%v); last log lines:\n%s", s.waitErr, s.tail())
		case <-ctx.Done():
			return fmt.Errorf("clickhouse-server did not answer within %s; last log lines:\n%s", s.opts.StartTimeout, s.tail())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop shuts the server down cleanly (SIGTERM, then SIGKILL after 30s) and
// waits for it to exit. It logs what is true: "stopped" when it stopped
// the process, "was not running" when the process had already exited
// (it crashed, or was killed from outside).
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		pid := s.cmd.Process.Pid
		select {
		case <-s.done:
			s.logFile.Close()
			s.opts.Logger.Info("managed ClickHouse was not running", "pid", pid, "status", exitError(s.waitErr).Error())
			return
		default:
		}
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			<-s.done
			s.logFile.Close()
			s.opts.Logger.Info("managed ClickHouse was not running", "pid", pid, "status", exitError(s.waitErr).Error())
			return
		}
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-s.done
		}
		s.logFile.Close()
		s.opts.Logger.Info("managed ClickHouse stopped", "pid", pid, "status", exitError(s.waitErr).Error())
	})
	return nil
}

// Kill stops the server abruptly, as a crash would.
func (s *Server) Kill() {
	s.stopOnce.Do(func() {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
		s.logFile.Close()
	})
}

// release closes the log file of a server that has exited, without
// logging: the supervisor has said what happened.
func (s *Server) release() {
	<-s.done
	s.stopOnce.Do(func() { s.logFile.Close() })
}

func (s *Server) tail() string {
	b, _ := os.ReadFile(filepath.Join(s.opts.DataDir, "clickhouse-server.log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// writeConfig writes a minimal server config that works on ClickHouse
// 18.16 (Debian) and on current releases, which still accept the <yandex>
// root element.
func writeConfig(dir string, tcp, http int, password string) error {
	cfg := fmt.Sprintf(`<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><console>1</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>%d</tcp_port>
  <http_port>%d</http_port>
  <path>%[3]s/data/</path>
  <tmp_path>%[3]s/tmp/</tmp_path>
  <user_files_path>%[3]s/user_files/</user_files_path>
  <format_schema_path>%[3]s/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
</yandex>
`, tcp, http, dir)
	sum := sha256.Sum256([]byte(password))
	users := fmt.Sprintf(`<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password_sha256_hex>%s</password_sha256_hex>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default></default></quotas>
</yandex>
`, hex.EncodeToString(sum[:]))
	if err := os.WriteFile(filepath.Join(dir, "config.xml"), []byte(cfg), 0o600); err != nil {
		return fmt.Errorf("writing ClickHouse config: %w", err)
	}
	// An older Målbild wrote users.xml without a password and 0640:
	// WriteFile keeps an existing file's mode, so set it.
	if err := os.WriteFile(filepath.Join(dir, "users.xml"), []byte(users), 0o600); err != nil {
		return fmt.Errorf("writing ClickHouse users: %w", err)
	}
	if err := os.Chmod(filepath.Join(dir, "users.xml"), 0o600); err != nil {
		return fmt.Errorf("writing ClickHouse users: %w", err)
	}
	return nil
}

// Restart starts a new server process with the same data directory and
// ports as s, after s has stopped.
func (s *Server) Restart(ctx context.Context) (*Server, error) {
	<-s.done
	return Start(ctx, s.opts)
}

// PasswordFile is the file in the data directory that holds the
// password of User.
const PasswordFile = "password"

// loadPassword reads the password from path, or generates one (256 random
// bits, hex) and writes it there with mode 0600 when the file does not
// exist yet. A file that others may read is refused: the password may
// have leaked.
func loadPassword(path string) (string, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		fi, err := os.Stat(path)
		if err != nil {
			return "", err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return "", fmt.Errorf("%s: the ClickHouse password file is readable by others (mode %04o): "+
				"remove it to have a new password generated at the next start", path, fi.Mode().Perm())
		}
		pw := strings.TrimSpace(string(b))
		if pw == "" {
			return "", fmt.Errorf("%s: the ClickHouse password file is empty: remove it to have a new password generated", path)
		}
		if strings.Trim(pw, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~") != "" {
			return "", fmt.Errorf("%s: the ClickHouse password may hold letters, digits and -._~ only: remove the file to have a new one generated", path)
		}
		return pw, nil
	case !errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("reading the ClickHouse password: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	pw := hex.EncodeToString(raw)
	// Written to a temporary file and renamed, so a crash never leaves a
	// half-written password behind.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".password-*")
	if err != nil {
		return "", fmt.Errorf("writing the ClickHouse password: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(pw + "\n"); err != nil {
		tmp.Close()
		return "", fmt.Errorf("writing the ClickHouse password: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("writing the ClickHouse password: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("writing the ClickHouse password: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("writing the ClickHouse password: %w", err)
	}
	return pw, nil
}

// privateDir creates dir with mode 0700, or takes group and other
// permissions away from an existing one: it holds the data and the
// password.
func privateDir(dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating ClickHouse data directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		if err := os.Chmod(dir, perm&0o700); err != nil {
			return fmt.Errorf("making %s private to this user: %w", dir, err)
		}
		log.Info("managed ClickHouse: made the data directory private to this user", "dir", dir, "was", fmt.Sprintf("%04o", perm))
	}
	return nil
}
