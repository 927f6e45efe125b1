// Package atomicfile writes a file so that a crash or a power loss leaves
// either the old file or the complete new one, never a torn one.
//
// The data goes to a temporary file in the target's directory, which is
// synced and renamed over the target (or, for a new file, linked to its
// name); then the directory is synced so that the name survives a power
// loss too. On an error the temporary file is removed.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Write replaces path with data, atomically and durably. The file gets
// exactly perm: the umask does not apply.
func Write(path string, data []byte, perm fs.FileMode) error {
	return write(path, data, perm, os.Rename)
}

// WriteNew is Write for a file that must not exist yet: it never replaces
// one, and fails with an error that matches fs.ErrExist if path exists.
func WriteNew(path string, data []byte, perm fs.FileMode) error {
	return write(path, data, perm, linkNew)
}

// linkNew puts the temporary file at path unless path exists. link(2)
// fails with EEXIST atomically on every POSIX system;
// renameat2(RENAME_NOREPLACE) would do it in one step but is Linux-only,
// and this package also builds for the control PCs. A filesystem without
// hard links (FAT on a USB stick) gets a check and a rename.
func linkNew(tmp, path string) error {
	err := os.Link(tmp, path)
	if err == nil {
		return os.Remove(tmp) // before the directory sync, which makes it durable too
	}
	if errors.Is(err, fs.ErrExist) {
		return fs.ErrExist // the LinkError would name the temporary file
	}
	if _, serr := os.Lstat(path); serr == nil {
		return fs.ErrExist
	}
	return os.Rename(tmp, path)
}

// Place moves the finished, synced file tmp to path in the same
// directory, replacing what is there only with replace (else an existing
// path fails with fs.ErrExist and tmp stays), and syncs the directory so
// that the name survives a power loss. For a file written in pieces, as a
// recording is.
func Place(tmp, path string, replace bool) error {
	put := linkNew
	if replace {
		put = os.Rename
	}
	if err := put(tmp, path); err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("atomicfile: syncing the directory of %s: %w", path, err)
	}
	return nil
}

func write(path string, data []byte, perm fs.FileMode, put func(tmp, path string) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("atomicfile: writing %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm) // CreateTemp made it 0600
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = put(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("atomicfile: writing %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("atomicfile: syncing the directory of %s: %w", path, err)
	}
	return nil
}

// syncDir makes a rename or link in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
