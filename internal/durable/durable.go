// Package durable writes files that survive a crash: whole or not at all.
package durable

import (
	"os"
	"path/filepath"
)

// WriteFile writes data to dir/name through a temporary file in dir that
// is synced and then renamed, so a reader never sees a partial file, and
// syncs dir so the rename itself survives a crash. On error nothing is
// left behind.
func WriteFile(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	SyncDir(dir)
	return nil
}

// SyncDir makes renames and removals in dir durable. Errors are ignored:
// not every file system can sync a directory.
func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
