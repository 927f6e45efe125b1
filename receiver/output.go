package receiver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/imustream/imustream/internal/atomicfile"
)

// SidecarPath is the name of the metadata file of the recording at csv.
func SidecarPath(csv string) string { return csv + ".json" }

// ExistsError is CreateOutput refusing to replace a file without force.
type ExistsError struct{ Path string }

func (e *ExistsError) Error() string { return "receiver: " + e.Path + " exists" }

// Is makes an ExistsError match fs.ErrExist.
func (e *ExistsError) Is(target error) bool { return target == fs.ErrExist }

// Output is the file a recording goes to. The rows are written to a
// partial file beside it, NAME.partial.EXT (NAME.partial-2.EXT, … if that
// is taken), which Commit renames into place once the recording is
// complete. A recording that is not complete stays under the partial name
// (Keep), so it never replaces the file at Path, and a process killed
// outright leaves its rows there too.
type Output struct {
	Path    string // where the recording goes, e.g. run1.csv
	Partial string // where its rows are until Commit, e.g. run1.partial.csv
	force   bool
	f       *os.File
	at      string // where the rows are now
	done    bool   // Commit, Keep or Discard ran
}

// CreateOutput creates the partial file for a recording to path. Without
// force it refuses with an *ExistsError when path or its sidecar exists;
// with force, Commit replaces them.
func CreateOutput(path string, force bool) (*Output, error) {
	if !force {
		for _, p := range []string{path, SidecarPath(path)} {
			if _, err := os.Lstat(p); err == nil {
				return nil, &ExistsError{Path: p}
			}
		}
	}
	ext := filepath.Ext(path)
	if ext == filepath.Base(path) { // a name like .csv is all stem
		ext = ""
	}
	stem := strings.TrimSuffix(path, ext)
	for i := 1; i <= 100; i++ {
		name := stem + ".partial" + ext
		if i > 1 {
			name = stem + ".partial-" + strconv.Itoa(i) + ext
		}
		// A stale sidecar of an earlier partial file must not be replaced either.
		if _, err := os.Lstat(SidecarPath(name)); err == nil {
			continue
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("receiver: recording to %s: %w", path, err)
		}
		return &Output{Path: path, Partial: name, force: force, f: f, at: name}, nil
	}
	return nil, fmt.Errorf("receiver: recording to %s: 100 partial files %s.partial*%s are in the way", path, stem, ext)
}

// File is where the rows go.
func (o *Output) File() *os.File { return o.f }

// close syncs the rows to the disk and closes the file.
func (o *Output) close() error {
	err := o.f.Sync()
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("receiver: saving %s: %w", o.Partial, err)
	}
	return nil
}

// Where returns where the rows are now: Partial, or Path after a Commit,
// or "" after Discard.
func (o *Output) Where() string { return o.at }

// Commit puts the recording at Path, with meta in its sidecar. Without
// force it does not replace a file that appeared at Path meanwhile. When
// it cannot put the recording in place it keeps it at Partial, as Keep
// does, and says why.
func (o *Output) Commit(meta *Metadata) error {
	o.done = true
	if err := o.close(); err != nil {
		return o.keepAfter(meta, err)
	}
	if err := atomicfile.Place(o.Partial, o.Path, o.force); err != nil {
		if errors.Is(err, fs.ErrExist) {
			err = fmt.Errorf("receiver: %s appeared during the recording: %w", o.Path, err)
		} else {
			err = fmt.Errorf("receiver: renaming %s to %s: %w", o.Partial, o.Path, err)
		}
		if _, serr := os.Stat(o.Partial); serr != nil {
			o.at = o.Path // the move was done, only the directory sync failed
			return fmt.Errorf("receiver: saving %s: %w", o.Path, err)
		}
		return o.keepAfter(meta, err)
	}
	o.at = o.Path
	return writeSidecar(o.Path, meta)
}

// keepAfter is Keep for a recording that Commit failed to put in place.
func (o *Output) keepAfter(meta *Metadata, err error) error {
	m := *meta
	m.Complete = false
	m.Ended += "; not put in place: " + err.Error()
	return errors.Join(err, writeSidecar(o.Partial, &m))
}

// Keep leaves the recording at Partial, with meta in its sidecar.
func (o *Output) Keep(meta *Metadata) error {
	o.done = true
	err := o.close()
	return errors.Join(err, writeSidecar(o.Partial, meta))
}

// Discard closes and removes the partial file: nothing was recorded.
// After Commit, Keep or Discard it does nothing, so that a deferred
// Discard cleans up after an early return (as sql.Tx's Rollback after
// Commit).
func (o *Output) Discard() error {
	if o.done {
		return nil
	}
	o.done = true
	o.f.Close()
	o.at = ""
	if err := os.Remove(o.Partial); err != nil {
		return fmt.Errorf("receiver: %w", err)
	}
	return nil
}

func writeSidecar(csv string, meta *Metadata) error {
	m := *meta
	m.CSV = filepath.Base(csv)
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	if err := atomicfile.Write(SidecarPath(csv), b, 0o644); err != nil {
		return fmt.Errorf("receiver: metadata: %w", err)
	}
	return nil
}
