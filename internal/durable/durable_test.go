package durable

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFile(dir, "a.json", []byte(`{"v":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(dir, "a.json", []byte(`{"v":2}`)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "a.json"))
	if err != nil || string(b) != `{"v":2}` {
		t.Fatalf("got %q, %v", b, err)
	}
	if err := WriteFile(filepath.Join(dir, "missing"), "b.json", nil); err == nil {
		t.Fatal("writing into a missing directory: no error")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
}
