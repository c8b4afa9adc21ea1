// Package clickhouse is Målbild's only door to ClickHouse: it opens the
// connection, applies the schema, writes collector batches, and reads and
// writes observations, assessments and collector runs.
//
// Everything here speaks the native protocol through clickhouse-go and
// uses SQL that runs on ClickHouse 18.16 (Debian) as well as on current
// releases.
package clickhouse

import (
	"context"
	"crypto/tls"
	sqldriver "database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// DefaultPort is the native-protocol port used when a DSN names none.
const DefaultPort = 9000

// Store is an open connection pool to one ClickHouse database.
type Store struct {
	conn driver.Conn
	db   string
	addr string
	// cluster is the cluster's name in cluster mode (cluster.go), where
	// conn sends every statement in its cluster form and raw as it is.
	cluster string
	raw     driver.Conn
	weight  uint64 // the cluster's total shard weight
}

// dsn is a parsed ClickHouse address.
type dsn struct {
	addr        string // host:port
	user        string
	password    string
	database    string
	dialTimeout time.Duration
	secure      bool
	skipVerify  bool
	altHosts    []string // more servers to fail over to, host:port
	cluster     string   // cluster mode: the cluster's name
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// parseDSN reads clickhouse://user:pass@host:port/db (or tcp://…). The
// optional query parameters are dial_timeout (a Go duration), secure and
// skip_verify (booleans, for TLS), alt_hosts (more servers, host:port,
// comma-separated: connections fail over to them in order) and cluster
// (cluster mode, see cluster.go).
func parseDSN(raw string) (dsn, error) {
	d := dsn{user: "default", database: "default", dialTimeout: 5 * time.Second}
	u, err := url.Parse(raw)
	if err != nil {
		return d, fmt.Errorf("invalid ClickHouse DSN: %w", err)
	}
	if u.Scheme != "clickhouse" && u.Scheme != "tcp" {
		return d, fmt.Errorf("invalid ClickHouse DSN %q: scheme must be clickhouse:// or tcp:// (the native protocol)", redact(u))
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return d, fmt.Errorf("invalid ClickHouse DSN %q: no host", redact(u))
	}
	if port == "" {
		port = strconv.Itoa(DefaultPort)
	} else if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return d, fmt.Errorf("invalid ClickHouse DSN %q: bad port %q", redact(u), port)
	}
	d.addr = net.JoinHostPort(host, port)
	if u.User != nil {
		if name := u.User.Username(); name != "" {
			d.user = name
		}
		d.password, _ = u.User.Password()
	}
	if db := strings.Trim(u.Path, "/"); db != "" {
		if !identRE.MatchString(db) {
			return d, fmt.Errorf("invalid ClickHouse DSN %q: database name %q must be letters, digits and underscores", redact(u), db)
		}
		d.database = db
	}
	for key, vals := range u.Query() {
		v := vals[len(vals)-1]
		switch key {
		case "dial_timeout":
			t, err := time.ParseDuration(v)
			if err != nil || t <= 0 {
				return d, fmt.Errorf("invalid ClickHouse DSN %q: dial_timeout %q is not a positive duration", redact(u), v)
			}
			d.dialTimeout = t
		case "secure", "skip_verify":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return d, fmt.Errorf("invalid ClickHouse DSN %q: %s %q is not true or false", redact(u), key, v)
			}
			if key == "secure" {
				d.secure = b
			} else {
				d.skipVerify = b
			}
		case "alt_hosts":
			for _, h := range strings.Split(v, ",") {
				if _, p, err := net.SplitHostPort(strings.TrimSpace(h)); err != nil || p == "" {
					return d, fmt.Errorf("invalid ClickHouse DSN %q: alt_hosts entry %q is not host:port", redact(u), h)
				}
				d.altHosts = append(d.altHosts, strings.TrimSpace(h))
			}
		case "cluster":
			if !identRE.MatchString(v) {
				return d, fmt.Errorf("invalid ClickHouse DSN %q: cluster name %q must be letters, digits and underscores", redact(u), v)
			}
			d.cluster = v
		default:
			return d, fmt.Errorf("invalid ClickHouse DSN %q: unknown parameter %q (known: dial_timeout, secure, skip_verify, alt_hosts, cluster)", redact(u), key)
		}
	}
	return d, nil
}

// redact returns the DSN without its password, for error messages.
func redact(u *url.URL) string {
	c := *u
	if c.User != nil {
		if _, ok := c.User.Password(); ok {
			c.User = url.UserPassword(c.User.Username(), "xxxxx")
		}
	}
	return c.String()
}

// options are the clickhouse-go settings for database db. They keep to
// what ClickHouse 18.16 understands: no query settings are sent by default
// (old servers reject settings they do not know), the protocol revision is
// negotiated down by the driver, and LZ4 block compression is as old as
// the native protocol.
func (d dsn) options(db string) *ch.Options {
	o := &ch.Options{
		Protocol: ch.Native,
		Addr:     append([]string{d.addr}, d.altHosts...),
		Auth:     ch.Auth{Database: db, Username: d.user, Password: d.password},
		ClientInfo: ch.ClientInfo{Products: []struct{ Name, Version string }{
			{Name: "malbild", Version: "1"},
		}},
		Compression:      &ch.Compression{Method: ch.CompressionLZ4},
		DialTimeout:      d.dialTimeout,
		ReadTimeout:      5 * time.Minute,
		MaxOpenConns:     10,
		MaxIdleConns:     5,
		ConnMaxLifetime:  30 * time.Minute,
		ConnOpenStrategy: ch.ConnOpenInOrder,
		BlockBufferSize:  10,
	}
	if d.cluster != "" {
		// Known to 18.16 and current releases. A write returns once its
		// rows are on a replica of their shard, not queued on the server
		// the client reached: a read that follows sees them, and a write
		// that failed is known to the caller (who retries or spools it).
		o.Settings = ch.Settings{"insert_distributed_sync": 1}
	}
	if d.secure {
		o.TLS = &tls.Config{InsecureSkipVerify: d.skipVerify} //nolint:gosec // opt-in via skip_verify
	}
	return o
}

// Open connects to the database named in dsn over the native protocol,
// creating the database if it does not exist, and checks that the server
// answers. An unreachable server gives an error naming host and port for
// which IsUnavailable is true.
func Open(ctx context.Context, rawDSN string) (*Store, error) {
	d, err := parseDSN(rawDSN)
	if err != nil {
		return nil, err
	}
	conn, err := connect(ctx, d, d.database)
	if err != nil && d.database != "default" && isException(err, codeUnknownDatabase) {
		if err := createDatabase(ctx, d); err != nil {
			return nil, err
		}
		conn, err = connect(ctx, d, d.database)
	}
	if err != nil {
		return nil, err
	}
	s := &Store{conn: conn, raw: conn, db: d.database, addr: d.addr}
	if d.cluster != "" {
		if err := s.openCluster(ctx, d); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return s, nil
}

// openCluster puts s in cluster mode (cluster.go).
func (s *Store) openCluster(ctx context.Context, d dsn) error {
	var weight uint64
	if err := s.raw.QueryRow(ctx, "SELECT toUInt64(sum(shard_weight)) FROM (SELECT DISTINCT shard_num, shard_weight FROM system.clusters WHERE cluster = ?)",
		d.cluster).Scan(&weight); err != nil {
		return fmt.Errorf("ClickHouse at %s: reading its clusters: %w", d.addr, err)
	}
	if weight == 0 {
		return fmt.Errorf("ClickHouse at %s has no cluster %q in its remote_servers (system.clusters)", d.addr, d.cluster)
	}
	o := d.options(d.database)
	o.Settings["skip_unavailable_shards"] = 1
	skip, err := ch.Open(o)
	if err != nil {
		return fmt.Errorf("opening ClickHouse at %s: %w", d.addr, err)
	}
	s.cluster, s.weight = d.cluster, weight
	s.conn = &clusterConn{Conn: s.raw, skip: wrapConn(skip, d.database), cluster: d.cluster, db: d.database, weight: weight}
	return nil
}

// Cluster is the cluster's name in cluster mode, else "".
func (s *Store) Cluster() string { return s.cluster }

// wrapConn lets this package's tests see every statement a store sends
// (they record them to replay on a current ClickHouse release); it is the
// identity outside tests.
var wrapConn = func(conn driver.Conn, db string) driver.Conn { return conn }

// connect opens a pool for database db and pings it.
func connect(ctx context.Context, d dsn, db string) (driver.Conn, error) {
	c, err := ch.Open(d.options(db))
	if err != nil {
		return nil, fmt.Errorf("opening ClickHouse at %s: %w", d.addr, err)
	}
	conn := wrapConn(c, db)
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		if isException(err, codeUnknownDatabase) {
			return nil, fmt.Errorf("ClickHouse at %s: database %s: %w", d.addr, db, err)
		}
		if IsUnavailable(err) {
			return nil, &unavailableError{addr: d.addr, err: err}
		}
		return nil, fmt.Errorf("connecting to ClickHouse at %s (database %s): %w", d.addr, db, err)
	}
	return conn, nil
}

func createDatabase(ctx context.Context, d dsn) error {
	conn, err := connect(ctx, d, "default")
	if err != nil {
		return err
	}
	defer conn.Close()
	// The name is checked against identRE in parseDSN; identifiers cannot
	// be passed as query parameters.
	if err := conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS `"+d.database+"`"); err != nil {
		return fmt.Errorf("creating database %s on ClickHouse at %s: %w", d.database, d.addr, err)
	}
	return nil
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.conn.Close() }

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.conn.Ping(ctx); err != nil {
		if IsUnavailable(err) {
			return &unavailableError{addr: s.addr, err: err}
		}
		return fmt.Errorf("pinging ClickHouse at %s: %w", s.addr, err)
	}
	return nil
}

// Database is the name of the database the store works in.
func (s *Store) Database() string { return s.db }

// Addr is the server's host:port.
func (s *Store) Addr() string { return s.addr }

// Conn is the underlying clickhouse-go connection, for queries this
// package has no method for.
func (s *Store) Conn() driver.Conn { return s.conn }

// Exec runs one statement; args fill its ? placeholders.
func (s *Store) Exec(ctx context.Context, query string, args ...any) error {
	if err := s.conn.Exec(ctx, query, args...); err != nil {
		return fmt.Errorf("executing %s: %w", abbreviate(query), err)
	}
	return nil
}

// abbreviate shortens a query for an error message.
func abbreviate(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if len(q) > 80 {
		return q[:77] + "..."
	}
	return q
}

// unavailableError is returned when the server cannot be reached.
type unavailableError struct {
	addr string
	err  error
}

func (e *unavailableError) Error() string {
	return fmt.Sprintf("ClickHouse at %s is unreachable: %v", e.addr, e.err)
}

func (e *unavailableError) Unwrap() error { return e.err }

// Server error codes this package looks at.
const (
	codeUnknownDatabase          = 81
	codeTooManySimultaneousQuery = 202
	codeSocketTimeout            = 209
	codeNetworkError             = 210
	codeTableIsReadOnly          = 242
	codeAllConnectionTriesFailed = 279
)

func isException(err error, code int32) bool {
	var ex *ch.Exception
	return errors.As(err, &ex) && ex.Code == code
}

// IsUnavailable reports whether err means ClickHouse could not be reached
// or went away (connection refused, reset, EOF, timeout, server
// overloaded), as opposed to the server rejecting a query. Writers keep
// their data (collectors spool it) and readers show stale data when it is
// true; retrying later may succeed.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var ue *unavailableError
	if errors.As(err, &ue) {
		return true
	}
	var ex *ch.Exception
	if errors.As(err, &ex) {
		switch ex.Code {
		case codeTooManySimultaneousQuery, codeSocketTimeout, codeNetworkError, codeTableIsReadOnly, codeAllConnectionTriesFailed:
			return true
		}
		return false
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ch.ErrAcquireConnTimeout) ||
		errors.Is(err, ch.ErrConnectionClosed) || errors.Is(err, sqldriver.ErrBadConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ETIMEDOUT) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}
