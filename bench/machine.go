package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// machine describes where the benchmarks ran.
type machine struct {
	cpu        string
	cores      int
	ramBytes   int64
	os         string
	kernel     string
	clickhouse string
	goVersion  string
	wrk        string
	date       time.Time
	// loadStart and loadEnd are the load averages (1, 5, 15 minutes)
	// when the run started and ended: the machine may be shared.
	loadStart, loadEnd string
}

func describeMachine(ctx context.Context, b *bench) machine {
	m := machine{
		cpu:       cpuModel(),
		cores:     runtime.NumCPU(),
		ramBytes:  memTotal(),
		os:        osName(),
		kernel:    strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")),
		goVersion: runtime.Version(),
		wrk:       wrkVersion(),
		date:      time.Now(),
		loadStart: loadAverage(),
	}
	m.clickhouse = "unknown"
	if b.ch == nil {
		m.clickhouse = "not running: " + oneLine(b.chErr.Error())
	} else if s, err := b.store(ctx, "default"); err == nil {
		var v string
		if err := s.Conn().QueryRow(ctx, "SELECT version()").Scan(&v); err == nil {
			m.clickhouse = v
		}
		s.Close()
	}
	return m
}

func (m machine) summary() string {
	return fmt.Sprintf("%s, %d cores, %s RAM, %s, ClickHouse %s, %s, %s",
		m.cpu, m.cores, gib(m.ramBytes), m.os, m.clickhouse, m.goVersion, m.date.Format("2006-01-02"))
}

func (m machine) markdown(w io.Writer) {
	fmt.Fprintln(w, "| | |")
	fmt.Fprintln(w, "|---|---|")
	fmt.Fprintf(w, "| CPU | %s |\n", cell(m.cpu))
	fmt.Fprintf(w, "| Cores | %d |\n", m.cores)
	fmt.Fprintf(w, "| RAM | %s |\n", gib(m.ramBytes))
	fmt.Fprintf(w, "| OS | %s (Linux %s) |\n", cell(m.os), cell(m.kernel))
	fmt.Fprintf(w, "| ClickHouse | %s |\n", cell(m.clickhouse))
	fmt.Fprintf(w, "| Go | %s |\n", m.goVersion)
	fmt.Fprintf(w, "| wrk | %s |\n", cell(m.wrk))
	fmt.Fprintf(w, "| Date | %s |\n", m.date.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "| Load average (1, 5, 15 min) | %s at the start, %s at the end |\n", m.loadStart, m.loadEnd)
}

// loadAverage returns the 1, 5 and 15 minute load averages.
func loadAverage() string {
	f := strings.Fields(readFile("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}

func gib(n int64) string {
	if n <= 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

func cpuModel() string {
	sc := bufio.NewScanner(strings.NewReader(readFile("/proc/cpuinfo")))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func memTotal() int64 {
	sc := bufio.NewScanner(strings.NewReader(readFile("/proc/meminfo")))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func osName() string {
	sc := bufio.NewScanner(strings.NewReader(readFile("/etc/os-release")))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return runtime.GOOS
}

func wrkVersion() string {
	path, err := exec.LookPath("wrk")
	if err != nil {
		return "not installed"
	}
	// wrk -v prints its version and usage, and exits non-zero.
	out, _ := exec.Command(path, "-v").CombinedOutput()
	line, _, _ := bytes.Cut(out, []byte("\n"))
	return strings.TrimSpace(string(line))
}
