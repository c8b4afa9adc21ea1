package collectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/malbild/malbild/collectors/swecsv"
	"github.com/malbild/malbild/facts"
)

// FileOptions are the options every file-based collector kind shares: which
// files to read and how they are encoded. Exactly one of Path, Glob and Dir
// is set.
type FileOptions struct {
	// Path is one file.
	Path string `yaml:"path"`
	// Glob is a pattern of files, e.g. "exports/arenden-*.csv".
	Glob string `yaml:"glob"`
	// Dir is a directory whose files matching Pattern are read.
	Dir string `yaml:"dir"`
	// Pattern selects files in Dir by name (case-insensitive); default "*.csv".
	Pattern string `yaml:"pattern"`
	// Watch remembers which files were imported (by name, size and
	// modification time) in a state file under StateDir, so that each run
	// reads only new and changed files.
	Watch bool `yaml:"watch"`
	// StateDir holds the state file of a watching collector.
	StateDir string `yaml:"state_dir"`
	// Encoding is auto, utf-8 or windows-1252.
	Encoding string `yaml:"encoding"`
	// Delimiter is auto, ";" or ",".
	Delimiter string `yaml:"delimiter"`
}

// check validates the options and resolves relative paths against the
// config file's directory.
func (o *FileOptions) check(inst Instance) error {
	set := 0
	for _, s := range []string{o.Path, o.Glob, o.Dir} {
		if s != "" {
			set++
		}
	}
	if set != 1 {
		return OptionsError(inst, nil, "set exactly one of path, glob and dir")
	}
	if o.Pattern != "" {
		if o.Dir == "" {
			return OptionsError(inst, optionAt(inst.Options, "pattern"), "pattern needs dir")
		}
		if _, err := filepath.Match(o.Pattern, ""); err != nil {
			return OptionsError(inst, optionAt(inst.Options, "pattern"), "invalid pattern %q: %v", o.Pattern, err)
		}
	}
	if o.Glob != "" {
		if _, err := filepath.Match(o.Glob, ""); err != nil {
			return OptionsError(inst, optionAt(inst.Options, "glob"), "invalid glob %q: %v", o.Glob, err)
		}
	}
	if o.Watch && o.StateDir == "" {
		o.StateDir = inst.StateDir
	}
	if o.Watch && o.StateDir == "" {
		return OptionsError(inst, optionAt(inst.Options, "watch"), "watch needs state_dir, where the list of imported files is kept")
	}
	if !o.Watch && o.StateDir != "" {
		return OptionsError(inst, optionAt(inst.Options, "state_dir"), "state_dir is only used with watch: true")
	}
	if err := (swecsv.Options{Encoding: o.Encoding}).Check(); err != nil {
		return OptionsError(inst, optionAt(inst.Options, "encoding"), "%v", err)
	}
	if err := (swecsv.Options{Delimiter: o.Delimiter}).Check(); err != nil {
		return OptionsError(inst, optionAt(inst.Options, "delimiter"), "%v", err)
	}
	o.Path = ResolvePath(inst, o.Path)
	o.Glob = ResolvePath(inst, o.Glob)
	o.Dir = ResolvePath(inst, o.Dir)
	o.StateDir = ResolvePath(inst, o.StateDir)
	if o.Pattern == "" {
		o.Pattern = "*.csv"
	}
	return nil
}

// optionsChecker is the options struct of a file kind: FileOptions and
// the kind's own keys, checked together.
type optionsChecker interface {
	check(inst Instance) error
}

// decodeFileOptions decodes inst's options into o, which holds the kind's
// defaults, and checks them.
func decodeFileOptions(inst Instance, o optionsChecker) error {
	if err := DecodeOptions(inst, o); err != nil {
		return err
	}
	return o.check(inst)
}

func (o *FileOptions) csv() swecsv.Options {
	return swecsv.Options{Encoding: o.Encoding, Delimiter: o.Delimiter}
}

// sourceFile is one file a collector run considers.
type sourceFile struct {
	Path    string
	Size    int64
	ModTime time.Time
}

// list returns the files the options name, sorted by path. A missing Path
// is an error; a Glob or Dir without matching files is not.
func (o *FileOptions) list() ([]sourceFile, error) {
	var paths []string
	switch {
	case o.Path != "":
		paths = []string{o.Path}
	case o.Glob != "":
		m, err := filepath.Glob(o.Glob)
		if err != nil {
			return nil, fmt.Errorf("glob %s: %w", o.Glob, err)
		}
		paths = m
	default:
		entries, err := os.ReadDir(o.Dir)
		if err != nil {
			return nil, fmt.Errorf("reading directory: %w", err)
		}
		pattern := strings.ToLower(o.Pattern)
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "~$") {
				continue // hidden files and Office lock files
			}
			if ok, _ := filepath.Match(pattern, strings.ToLower(name)); ok {
				paths = append(paths, filepath.Join(o.Dir, name))
			}
		}
	}
	sort.Strings(paths)
	files := make([]sourceFile, 0, len(paths))
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.Mode().IsRegular() {
			if o.Path != "" {
				return nil, fmt.Errorf("%s is not a regular file", p)
			}
			continue
		}
		files = append(files, sourceFile{Path: p, Size: st.Size(), ModTime: st.ModTime()})
	}
	return files, nil
}

// fileState remembers the files a watching collector has imported, by
// path.
type fileState struct {
	Files map[string]fileMark `json:"files"`
}

type fileMark struct {
	Size     int64     `json:"size"`
	ModTime  time.Time `json:"mtime"`
	Version  uint64    `json:"version"`
	Imported time.Time `json:"imported"`
}

func (s *fileState) unchanged(f sourceFile) bool {
	m, ok := s.Files[f.Path]
	return ok && m.Size == f.Size && m.ModTime.Equal(f.ModTime)
}

// forget drops files that no longer exist.
func (s *fileState) forget(present []sourceFile) {
	keep := make(map[string]bool, len(present))
	for _, f := range present {
		keep[f.Path] = true
	}
	for p := range s.Files {
		if !keep[p] {
			delete(s.Files, p)
		}
	}
}

var versionMu sync.Mutex
var lastVersion uint64

// nextVersion returns a version from the clock that is higher than every
// version handed out before by this process.
func nextVersion(now time.Time) uint64 {
	versionMu.Lock()
	defer versionMu.Unlock()
	v := uint64(now.UnixNano())
	if v <= lastVersion {
		v = lastVersion + 1
	}
	lastVersion = v
	return v
}

// fileParser parses one opened file into the rows of b (an empty batch);
// the caller fills in tenant, collector, source and version, and drops b
// on an error. rows reports progress.
type fileParser func(r io.Reader, f sourceFile, rows func(int), b *facts.Batch) error

// collectFiles runs parse over every file opts name and writes one batch
// per file. A file with bad input is rejected whole (nothing of it is
// written) and its errors are returned; other files are still read. With
// watch, files imported before and unchanged since are skipped, except in
// a backfill (req.From or req.To set), which reads every file again.
func collectFiles(ctx context.Context, kind string, inst Instance, opts *FileOptions, now func() time.Time, req Request, out Sink, parse fileParser) error {
	files, err := opts.list()
	if err != nil {
		return fmt.Errorf("%s: listing files: %w", inst.Name, err)
	}
	var state *fileState
	statePath := ""
	if opts.Watch {
		statePath = stateFile(opts.StateDir, kind, inst.Name)
		state = &fileState{}
		// An unreadable state only means files are read again, which is
		// harmless: later versions replace earlier ones.
		if _, err := loadState(statePath, state); err != nil {
			state = &fileState{}
		}
		if state.Files == nil {
			state.Files = map[string]fileMark{}
		}
	}
	backfill := !req.From.IsZero() || !req.To.IsZero()
	var errs []error
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		if state != nil && !backfill && state.unchanged(f) {
			continue
		}
		if req.Progress != nil {
			req.Progress.File(f.Path)
		}
		b, err := parseFile(f, req.Progress, parse)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		b.Tenant = tenantOf(req, inst)
		b.Collector = inst.Name
		b.Source = f.Path
		b.Version = nextVersion(now())
		for i := range b.Observations {
			b.Observations[i].Tenant = b.Tenant
			b.Observations[i].Version = b.Version
		}
		if b.Rows() > 0 { // a file with a header only has nothing to write
			if err := out.Write(ctx, b); err != nil {
				errs = append(errs, fmt.Errorf("writing %s: %w", f.Path, err))
				continue
			}
		}
		if state != nil {
			state.Files[f.Path] = fileMark{Size: f.Size, ModTime: f.ModTime, Version: b.Version, Imported: now()}
		}
	}
	if state != nil {
		state.forget(files)
		if err := saveState(statePath, state); err != nil {
			errs = append(errs, fmt.Errorf("saving the list of imported files: %w", err))
		}
	}
	return errors.Join(errs...)
}

func parseFile(f sourceFile, p Progress, parse fileParser) (*facts.Batch, error) {
	fh, err := os.Open(f.Path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	rows := func(int) {}
	if p != nil {
		rows = p.Rows
	}
	b := &facts.Batch{}
	if err := parse(fh, f, rows, b); err != nil {
		return nil, err
	}
	return b, nil
}

// foldSet matches values case-insensitively after trimming.
type foldSet []string

func (s foldSet) has(v string) bool {
	for _, x := range s {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// checkValues rejects empty entries in a list option.
func checkValues(inst Instance, key string, vs []string) error {
	for i, v := range vs {
		if strings.TrimSpace(v) == "" {
			return OptionsError(inst, optionAt(inst.Options, key, i), "%s: empty value", key)
		}
	}
	return nil
}
