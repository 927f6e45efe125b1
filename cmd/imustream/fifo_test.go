package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A FIFO as key or config file hung the daemon, which then ignored
// SIGTERM: both must be regular files, refused at once.
func TestSpecialFilesRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"run", "--sim", "--listen", "127.0.0.1:0", "--key", fifo},
		{"run", "--sim", "--listen", "127.0.0.1:0", "--config", fifo},
		{"status", "--key", fifo},
	} {
		_, stderr, code := runCmd(t, args...)
		if code == 0 || !strings.Contains(stderr, "not a regular file") {
			t.Errorf("imustream %q: exit %d, %q; want a refusal naming it not a regular file", args, code, stderr)
		}
	}
}
