package chserver_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/malbild/malbild/chserver"
)

func TestStartAnswersAndStopsCleanly(t *testing.T) {
	dir := t.TempDir()
	s, err := chserver.Start(context.Background(), chserver.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+s.HTTPAddr()+"/?query=SELECT%201%2B1", nil)
	req.SetBasicAuth(chserver.User, s.Password())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(b)) != "2" {
		t.Fatalf("SELECT 1+1 = %q", b)
	}
	pid := s.Pid()
	s.Stop()
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed when Stop returned")
	}
	// The process is gone: signal 0 to its pid fails.
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("clickhouse-server pid %d still running after Stop", pid)
	}
	if _, err := os.Stat(dir + "/config.xml"); err != nil {
		t.Fatalf("config not written: %v", err)
	}
}

func TestMissingBinarySaysHowToInstall(t *testing.T) {
	_, err := chserver.Start(context.Background(), chserver.Options{Binary: "clickhouse-server-not-here", DataDir: t.TempDir()})
	if err != chserver.ErrNotInstalled {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "apt-get install clickhouse-server") || !strings.Contains(err.Error(), "--clickhouse") {
		t.Fatalf("message does not say how to install or where to point: %v", err)
	}
}
