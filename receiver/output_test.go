package receiver

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/imustream/imustream/sensor"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// recordInto writes a short recording to o and returns its metadata.
func recordInto(t *testing.T, o *Output) *Metadata {
	t.Helper()
	r := NewRecorder(o.File())
	stream(t, r, 3, 0, 10, 1e9, 1_767_225_600_000_000_000)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	m := r.NewMetadata()
	m.Complete, m.Device = true, "pi:7600"
	return m
}

// TestOutputRefuses: without force an existing file, or an existing
// sidecar, is refused and left alone, and no partial file is made.
func TestOutputRefuses(t *testing.T) {
	for _, existing := range []string{"run.csv", "run.csv.json"} {
		dir := t.TempDir()
		path := filepath.Join(dir, "run.csv")
		if err := os.WriteFile(filepath.Join(dir, existing), []byte("precious\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := CreateOutput(path, false)
		var e *ExistsError
		if !errors.As(err, &e) || !errors.Is(err, fs.ErrExist) || e.Path != filepath.Join(dir, existing) {
			t.Errorf("%s exists: CreateOutput: %v, want an ExistsError naming it", existing, err)
		}
		if names := dirNames(t, dir); !slices.Equal(names, []string{existing}) {
			t.Errorf("%s exists: the directory holds %q", existing, names)
		}
	}
}

// TestOutputCommit: rows go to a partial file; Commit renames it into
// place (replacing a file only with force) and writes the sidecar.
func TestOutputCommit(t *testing.T) {
	for _, force := range []bool{false, true} {
		dir := t.TempDir()
		path := filepath.Join(dir, "run.csv")
		if force {
			if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		o, err := CreateOutput(path, force)
		if err != nil {
			t.Fatal(err)
		}
		if o.Partial != filepath.Join(dir, "run.partial.csv") || o.Where() != o.Partial {
			t.Errorf("partial file %q (now at %q), want run.partial.csv", o.Partial, o.Where())
		}
		m := recordInto(t, o)
		if force && readFile(t, path) != "old\n" {
			t.Error("the old file changed during the recording")
		}
		if err := o.Commit(m); err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, path); !strings.HasPrefix(got, wantCSVHeader) || strings.Count(got, "\n") != 11 {
			t.Errorf("force %v: the file after Commit: %q", force, got)
		}
		if names := dirNames(t, dir); !slices.Equal(names, []string{"run.csv", "run.csv.json"}) || o.Where() != path {
			t.Errorf("force %v: directory %q, rows at %q; want run.csv and its sidecar", force, names, o.Where())
		}
		var got Metadata
		if err := json.Unmarshal([]byte(readFile(t, path+".json")), &got); err != nil {
			t.Fatal(err)
		}
		if got.CSV != "run.csv" || got.Rows != 10 || got.CSVBytes != int64(len(readFile(t, path))) || !got.Complete || got.Device != "pi:7600" {
			t.Errorf("sidecar %+v", got)
		}
	}
}

// TestOutputNeverReplaces: a file that appears at the target during a
// recording without force is not replaced: the rows stay partial. An
// incomplete recording (Keep) stays partial too, with its sidecar; a
// second recording picks the next partial name.
func TestOutputNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.csv")
	o, err := CreateOutput(path, false)
	if err != nil {
		t.Fatal(err)
	}
	o2, err := CreateOutput(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if o2.Partial != filepath.Join(dir, "run.partial-2.csv") {
		t.Errorf("second partial file %q, want run.partial-2.csv", o2.Partial)
	}
	m := recordInto(t, o)
	if err := os.WriteFile(path, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = o.Commit(m)
	if !errors.Is(err, fs.ErrExist) || o.Where() != o.Partial {
		t.Errorf("Commit over a new file: %v, rows at %q; want ErrExist, partial", err, o.Where())
	}
	if readFile(t, path) != "precious\n" {
		t.Error("Commit replaced a file without force")
	}
	var got Metadata
	if err := json.Unmarshal([]byte(readFile(t, o.Partial+".json")), &got); err != nil || got.Complete || got.CSV != "run.partial.csv" || got.Rows != 10 {
		t.Errorf("the partial file's sidecar: %+v, %v; want incomplete, 10 rows", got, err)
	}
	m2 := recordInto(t, o2)
	m2.Complete = false
	if err := o2.Keep(m2); err != nil {
		t.Fatal(err)
	}
	if rows := parseRecording(t, []byte(readFile(t, o2.Partial))); len(rows) != 10 {
		t.Errorf("kept partial file: %d rows, want 10", len(rows))
	}
	want := []string{"run.csv", "run.partial-2.csv", "run.partial-2.csv.json", "run.partial.csv", "run.partial.csv.json"}
	if names := dirNames(t, dir); !slices.Equal(names, want) {
		t.Errorf("directory %q, want %q", names, want)
	}
}

// TestOutputDiscard: nothing recorded leaves nothing behind.
func TestOutputDiscard(t *testing.T) {
	dir := t.TempDir()
	o, err := CreateOutput(filepath.Join(dir, "data"), true)
	if err != nil {
		t.Fatal(err)
	}
	if o.Partial != filepath.Join(dir, "data.partial") {
		t.Errorf("partial file %q, want data.partial", o.Partial)
	}
	if err := o.Discard(); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, dir); len(names) != 0 || o.Where() != "" {
		t.Errorf("after Discard: %q, rows at %q", names, o.Where())
	}
	if err := o.Discard(); err != nil {
		t.Errorf("Discard again: %v", err)
	}
}

// TestOutputDiscardAfterFinish: a deferred Discard leaves a recording
// that was put in place, or kept, alone.
func TestOutputDiscardAfterFinish(t *testing.T) {
	dir := t.TempDir()
	committed, err := CreateOutput(filepath.Join(dir, "a.csv"), false)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := CreateOutput(filepath.Join(dir, "b.csv"), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := committed.Commit(recordInto(t, committed)); err != nil {
		t.Fatal(err)
	}
	if err := kept.Keep(recordInto(t, kept)); err != nil {
		t.Fatal(err)
	}
	for _, o := range []*Output{committed, kept} {
		if err := o.Discard(); err != nil {
			t.Errorf("Discard after finishing %s: %v", o.Path, err)
		}
	}
	want := []string{"a.csv", "a.csv.json", "b.partial.csv", "b.partial.csv.json"}
	if names := dirNames(t, dir); !slices.Equal(names, want) || committed.Where() != committed.Path || kept.Where() != kept.Partial {
		t.Errorf("after Discard: %q, rows at %q and %q; want %q", names, committed.Where(), kept.Where(), want)
	}
}

// TestMetadata: the sidecar names every column of the header, in order,
// with a unit for each measured one, and every flag bit as on the wire.
func TestMetadata(t *testing.T) {
	var names []string
	for _, c := range Columns {
		names = append(names, c.Name)
		if c.Description == "" {
			t.Errorf("column %s has no description", c.Name)
		}
	}
	if got := strings.Join(names, ",") + "\n"; got != wantCSVHeader {
		t.Errorf("columns %q, header %q", got, CSVHeader)
	}
	units := map[string]string{"t_mono_ns": "ns", "ax": "m/s²", "gz": "rad/s", "temp_c": "°C", "late_ns": "ns", "pressure_pa": "Pa", "mx": "µT", "mz": "µT"}
	for _, c := range Columns {
		if want, ok := units[c.Name]; ok && c.Unit != want {
			t.Errorf("column %s: unit %q, want %q", c.Name, c.Unit, want)
		}
	}
	for i, f := range Flags {
		if f.Bit != i || f.Mask != map[int]string{0: "0x0001", 1: "0x0002", 2: "0x0004", 3: "0x0008", 4: "0x0010", 5: "0x0020", 6: "0x0040", 7: "0x0080", 8: "0x0100"}[i] {
			t.Errorf("flag %d: %+v", i, f)
		}
	}
	if Flags[5].Name != "pressure" || 1<<Flags[5].Bit != int(sensor.StatusPressure) {
		t.Errorf("pressure flag %+v", Flags[5])
	}
	r := NewRecorder(nil)
	stream(t, r, 3, 0, 10, 1e9, 1_767_225_600_000_000_000)
	m := r.NewMetadata()
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got["format"] != SidecarFormat || got["start"] != "2026-01-01T00:00:01Z" || got["start_wall_ns"] != float64(1_767_225_601_000_000_000) {
		t.Errorf("sidecar: format %v, start %v, start_wall_ns %v", got["format"], got["start"], got["start_wall_ns"])
	}
	sum, _ := got["summary"].(map[string]any)
	for _, k := range []string{"samples", "lost", "duplicated", "reordered", "late", "skipped", "sensor_errors", "sessions", "end_seen", "lost_between_sessions", "unknown_gaps",
		"auth", "forged", "wrong_source", "suspicious"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("sidecar summary lacks %q: %v", k, sum)
		}
	}
}
