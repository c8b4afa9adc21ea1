// Package chcluster starts a local ClickHouse cluster of two shards with
// two replicas each, on loopback, coordinated by one ZooKeeper: Debian's
// clickhouse-server and zookeeper packages, started as child processes
// with their data in a temporary directory. internal/chtest gives it to
// tests; the bench's cluster section runs on it too.
package chcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/malbild/malbild/chserver"
)

// zooKeeperJars is the class path of Debian's zookeeper package (its
// jar's manifest names the libraries it needs).
var zooKeeperJars = []string{"/usr/share/java/zookeeper.jar", "/usr/share/java/zookeeper-jute.jar", "/usr/share/java/slf4j-nop.jar"}

// Options configure Start.
type Options struct {
	// Name is the cluster's name in the servers' remote_servers
	// (default "malbild_cluster").
	Name string
	// Dir is where the cluster's temporary directory is made ("" is the
	// system's temporary directory).
	Dir string
	// NoBlockDeduplication turns off the replicated tables' deduplication
	// of repeated insert blocks (for tests that share a database and
	// empty it between them).
	NoBlockDeduplication bool
	// StartTimeout bounds each server's start (default two minutes).
	StartTimeout time.Duration
	// Logger receives the servers' start-up messages (nil: none).
	Logger *slog.Logger
}

// Cluster is a running local cluster.
type Cluster struct {
	mu       sync.Mutex
	dir      string
	name     string
	zk       *exec.Cmd
	zkDone   chan struct{}
	password string
	// Servers are shard 1 replica 1, shard 1 replica 2, shard 2 replica 1,
	// shard 2 replica 2.
	Servers [4]*chserver.Server
}

// Name is the cluster's name, for the DSN's cluster parameter and ON
// CLUSTER.
func (c *Cluster) Name() string { return c.name }

// DSN is a cluster-mode DSN for database db: it connects to shard 1
// replica 1 and fails over to the other servers.
func (c *Cluster) DSN(db string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var alt []string
	for _, s := range c.Servers[1:] {
		alt = append(alt, s.Addr())
	}
	return c.Servers[0].DSN(db) + "?" + url.Values{"cluster": {c.name}, "alt_hosts": {strings.Join(alt, ",")}}.Encode()
}

// Server is server i (0–3).
func (c *Cluster) Server(i int) *chserver.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Servers[i]
}

// Kill stops server i as a crash would (SIGKILL).
func (c *Cluster) Kill(i int) { c.Server(i).Kill() }

// Restart starts server i again on its data and ports after Kill.
func (c *Cluster) Restart(ctx context.Context, i int) error {
	s := c.Server(i)
	s.Stop()
	n, err := s.Restart(ctx)
	if err != nil {
		return fmt.Errorf("restarting cluster server %d: %w", i, err)
	}
	c.mu.Lock()
	c.Servers[i] = n
	c.mu.Unlock()
	return nil
}

// Stop stops every server and ZooKeeper and removes the cluster's
// directory.
func (c *Cluster) Stop() {
	for _, s := range c.Servers {
		if s != nil {
			s.Stop()
		}
	}
	if c.zk != nil {
		_ = c.zk.Process.Kill()
		<-c.zkDone
	}
	os.RemoveAll(c.dir)
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Start starts ZooKeeper and the four servers and returns when all of
// them serve.
func Start(ctx context.Context, opts Options) (c *Cluster, err error) {
	if opts.Name == "" {
		opts.Name = "malbild_cluster"
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 2 * time.Minute
	}
	dir, err := os.MkdirTemp(opts.Dir, "malbild-cluster-")
	if err != nil {
		return nil, err
	}
	c = &Cluster{dir: dir, name: opts.Name}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	// ZooKeeper, 4 × (native, HTTP, interserver).
	ports, err := freePorts(1 + 4*3)
	if err != nil {
		return nil, err
	}
	if err := c.startZooKeeper(ports[0]); err != nil {
		return nil, err
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	c.password = hex.EncodeToString(raw)
	tcp := func(i int) int { return ports[1+3*i] }
	var shards strings.Builder
	for sh := range 2 {
		shards.WriteString("<shard><internal_replication>true</internal_replication>")
		for r := range 2 {
			fmt.Fprintf(&shards, "<replica><host>127.0.0.1</host><port>%d</port><user>%s</user><password>%s</password></replica>",
				tcp(2*sh+r), chserver.User, c.password)
		}
		shards.WriteString("</shard>")
	}
	mergeTree := ""
	if opts.NoBlockDeduplication {
		// A block inserted again must not be dropped as a repeat.
		mergeTree = "\n  <merge_tree><replicated_deduplication_window>0</replicated_deduplication_window></merge_tree>"
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range 4 {
		sdir := filepath.Join(dir, fmt.Sprintf("s%d", i))
		if err := os.MkdirAll(filepath.Join(sdir, "config.d"), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(sdir, chserver.PasswordFile), []byte(c.password+"\n"), 0o600); err != nil {
			return nil, err
		}
		cfg := fmt.Sprintf(`<?xml version="1.0"?>
<yandex>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <interserver_http_port>%d</interserver_http_port>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>33554432</uncompressed_cache_size>
  <zookeeper><node><host>127.0.0.1</host><port>%d</port></node><session_timeout_ms>10000</session_timeout_ms></zookeeper>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>%s
  <macros><shard>%02d</shard><replica>r%d</replica></macros>
  <remote_servers><%s>%s</%[6]s></remote_servers>
</yandex>
`, ports[3+3*i], ports[0], mergeTree, i/2+1, i%2+1, opts.Name, shards.String())
		if err := os.WriteFile(filepath.Join(sdir, "config.d", "cluster.xml"), []byte(cfg), 0o600); err != nil {
			return nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Servers[i], errs[i] = chserver.Start(ctx, chserver.Options{
				DataDir: sdir, TCPPort: tcp(i), HTTPPort: ports[2+3*i], StartTimeout: opts.StartTimeout, Logger: opts.Logger,
			})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// A server answers queries before its ZooKeeper session is up; the
	// first ON CLUSTER statement then has been seen to crash 18.16. The
	// cluster is ready when every server reads ZooKeeper.
	for i, s := range c.Servers {
		if err := zooKeeperReady(ctx, s, opts.StartTimeout); err != nil {
			return nil, fmt.Errorf("cluster server %d: %w", i, err)
		}
	}
	return c, nil
}

// zooKeeperReady waits until s reads ZooKeeper (system.zookeeper), s
// exits, or limit passes.
func zooKeeperReady(ctx context.Context, s *chserver.Server, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	q := url.Values{"query": {"SELECT count() FROM system.zookeeper WHERE path = '/'"}}
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+s.HTTPAddr()+"/?"+q.Encode(), nil)
		if err != nil {
			return err
		}
		req.SetBasicAuth(chserver.User, s.Password())
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s", strings.TrimSpace(string(b)))
		}
		last = err
		select {
		case <-s.Done():
			return fmt.Errorf("exited before it reached ZooKeeper: %v", last)
		case <-ctx.Done():
			return fmt.Errorf("no ZooKeeper session within %s: %v", limit, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// startZooKeeper runs Debian's ZooKeeper in the foreground on port.
func (c *Cluster) startZooKeeper(port int) error {
	java, err := exec.LookPath("java")
	if err != nil {
		return errors.New("java not found on PATH: install the zookeeper package (scripts/install-deps.sh test)")
	}
	for _, j := range zooKeeperJars {
		if _, err := os.Stat(j); err != nil {
			return fmt.Errorf("%s missing: install the zookeeper package (scripts/install-deps.sh test)", j)
		}
	}
	zdir := filepath.Join(c.dir, "zookeeper")
	if err := os.MkdirAll(filepath.Join(zdir, "data"), 0o700); err != nil {
		return err
	}
	cfg := fmt.Sprintf("tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"+
		"admin.enableServer=false\nmaxClientCnxns=0\n", filepath.Join(zdir, "data"), port)
	if err := os.WriteFile(filepath.Join(zdir, "zoo.cfg"), []byte(cfg), 0o600); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(zdir, "zookeeper.log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(java, "-Xmx128m", "-XX:+UseSerialGC", "-cp", strings.Join(zooKeeperJars, ":"),
		"org.apache.zookeeper.server.quorum.QuorumPeerMain", filepath.Join(zdir, "zoo.cfg"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting ZooKeeper: %w", err)
	}
	c.zk, c.zkDone = cmd, make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(c.zkDone) }()
	// Ready when it answers "imok" on its client port (an event, bounded
	// by a failure limit).
	deadline := time.Now().Add(time.Minute)
	for {
		if zkOK(port) {
			return nil
		}
		select {
		case <-c.zkDone:
			b, _ := os.ReadFile(filepath.Join(zdir, "zookeeper.log"))
			return fmt.Errorf("ZooKeeper exited during start-up:\n%s", b)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("ZooKeeper did not answer within a minute")
		}
	}
}

// zkOK asks ZooKeeper whether it serves: srvr answers only once it does.
func zkOK(port int) bool {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Write([]byte("srvr")); err != nil {
		return false
	}
	b := make([]byte, 512)
	n, _ := conn.Read(b)
	return strings.Contains(string(b[:n]), "Mode:")
}
