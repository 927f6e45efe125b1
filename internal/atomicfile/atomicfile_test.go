package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// holds checks that dir holds exactly want: no temporary file was left.
func holds(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s holds %q, want %q", dir, got, want)
	}
}

func checkFile(t *testing.T, path, data string, perm fs.FileMode) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || string(b) != data {
		t.Errorf("%s holds %q, %v; want %q", path, b, err, data)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != perm {
		t.Errorf("%s has mode %v, want %v", path, fi.Mode(), perm)
	}
}

func TestWriteModeIgnoresUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		perm fs.FileMode
		do   func(string, []byte, fs.FileMode) error
	}{
		{"calib.json", 0o644, Write},
		{"replay", 0o600, Write},
		{"key", 0o600, WriteNew},
		{"shared", 0o664, WriteNew},
	} {
		path := filepath.Join(dir, tc.name)
		if err := tc.do(path, []byte(tc.name+"\n"), tc.perm); err != nil {
			t.Fatal(err)
		}
		checkFile(t, path, tc.name+"\n", tc.perm)
	}
	holds(t, dir, "calib.json", "key", "replay", "shared")
}

// A reader that opened the old file keeps reading the old contents: the
// new file is another inode renamed over it, not the old one rewritten.
func TestWriteReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(path)
	r, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := Write(path, []byte("new contents"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path, "new contents", 0o644)
	if b, _ := io.ReadAll(r); string(b) != "old" {
		t.Errorf("the old file, open before the write, now holds %q", b)
	}
	after, _ := os.Stat(path)
	if os.SameFile(before, after) {
		t.Error("the old file was rewritten in place")
	}
	holds(t, dir, "state")
}

// A relative name writes in the working directory and syncs ".".
func TestWriteRelative(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := Write("rel", []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	checkFile(t, filepath.Join(dir, "rel"), "x", 0o600)
}

func TestWriteNewRefusesExisting(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "key")
	if err := os.WriteFile(file, []byte("deployed key"), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{file, sub, dangling} {
		err := WriteNew(path, []byte("other key"), 0o600)
		if !errors.Is(err, fs.ErrExist) || !strings.HasPrefix(err.Error(), "atomicfile: ") || !strings.Contains(err.Error(), path) {
			t.Errorf("WriteNew over %s: %v; want an atomicfile error naming it that matches fs.ErrExist", path, err)
		}
	}
	checkFile(t, file, "deployed key", 0o600)
	if _, err := os.Stat(filepath.Join(dir, "nowhere")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("WriteNew followed the dangling link: %v", err)
	}
	holds(t, dir, "dangling", "key", "sub")
	holds(t, sub)
}

// Failures that also happen as root. Over a directory the write fails only
// at the rename or link, after the temporary file exists: it must go too.
func TestWriteFailsCleanly(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, []byte("a regular file"), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing", "x")
	under := filepath.Join(notDir, "x")
	for _, tc := range []struct {
		name string
		do   func(string, []byte, fs.FileMode) error
		path string
		is   error
	}{
		{"Write", Write, missing, fs.ErrNotExist},
		{"WriteNew", WriteNew, missing, fs.ErrNotExist},
		{"Write", Write, under, syscall.ENOTDIR},
		{"WriteNew", WriteNew, under, syscall.ENOTDIR},
		{"Write", Write, sub, fs.ErrExist}, // os.Rename refuses a directory
		{"WriteNew", WriteNew, sub, fs.ErrExist},
	} {
		err := tc.do(tc.path, []byte("data"), 0o600)
		if !errors.Is(err, tc.is) || !strings.HasPrefix(err.Error(), "atomicfile: ") || !strings.Contains(err.Error(), tc.path) {
			t.Errorf("%s(%s): %v; want an atomicfile error naming it that matches %v", tc.name, tc.path, err, tc.is)
		}
	}
	holds(t, dir, "file", "sub")
	holds(t, sub)
}

// OpenRegular refuses, without blocking, what is not a regular file: a
// FIFO nobody writes to would hang the caller in open(2).
func TestOpenRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		f, err := OpenRegular(fifo)
		if f != nil {
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "FIFO") {
			t.Errorf("FIFO: %v, want ErrNotRegular naming a FIFO", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OpenRegular blocked on a FIFO")
	}
	if _, err := OpenRegular(dir); !errors.Is(err, ErrNotRegular) {
		t.Errorf("directory: %v", err)
	}
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := OpenRegular(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if b, err := io.ReadAll(f); err != nil || string(b) != "x" {
		t.Errorf("read %q, %v", b, err)
	}
}

// Place puts a finished file at its name: without replace it refuses an
// existing one and leaves the temporary file, with replace it replaces.
func TestPlace(t *testing.T) {
	dir := t.TempDir()
	tmp, path := filepath.Join(dir, "rec.partial"), filepath.Join(dir, "rec")
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(tmp, "new")
	if err := Place(tmp, path, false); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("placed %q", b)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the temporary file is still there: %v", err)
	}
	write(tmp, "newer")
	if err := Place(tmp, path, false); !errors.Is(err, fs.ErrExist) {
		t.Errorf("no-replace over an existing file: %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(tmp); string(b) != "newer" {
		t.Error("the refused file is gone")
	}
	if err := Place(tmp, path, true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "newer" {
		t.Errorf("replaced with %q", b)
	}
}
