package bench

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// readFixture returns testdata/suite.json, the results of a suite (some
// of its runs) as Suite writes them, which perfdoc's tests render too.
func readFixture(t *testing.T) *SuiteResult {
	t.Helper()
	f, err := os.Open("testdata/suite.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := ReadSuite(f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSuiteFile: what Suite writes, ReadSuite reads back, the durations
// included, which the JSON has in seconds only.
func TestSuiteFile(t *testing.T) {
	base := DefaultConfig()
	base.Duration, base.Warmup = 90*time.Second+500*time.Millisecond, 1500*time.Millisecond
	want := SuiteResult{Command: "imustream bench --suite x.json --duration 1m30.5s", Time: time.Date(2026, 11, 22, 0, 30, 0, 0, time.UTC)}
	for i, s := range suite() {
		c := s.config(base)
		if err := c.Check(); err != nil {
			t.Fatal(err)
		}
		r := &Result{Config: c, Command: "imustream " + strings.Join(c.Args(), " "), DaemonStatus: map[string]string{"skipped": "0"}}
		r.Product.GCCycles = i
		want.Runs = append(want.Runs, SuiteRun{Key: s.key, Title: s.title, Result: r})
	}
	path := filepath.Join(t.TempDir(), "suite.json")
	if err := writeSuite(path, &want); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ReadSuite(f)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Time.Equal(want.Time) {
		t.Errorf("time %v, want %v", got.Time, want.Time)
	}
	got.Time = want.Time
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("read back\n%+v\nwant\n%+v", *got, want)
	}
	if r := got.Find("load-spin"); r == nil || r.Config.Spin != 50*time.Microsecond || r.Config.Duration != base.Duration {
		t.Errorf("Find(load-spin) = %+v", r)
	}
	if r := got.Find("none"); r != nil {
		t.Errorf("Find(none) = %+v, want nil", r)
	}
}

// TestReadSuiteErrors: ReadSuite refuses what is not a suite's results.
func TestReadSuiteErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{``, "bench: suite: EOF"},
		{`[{"key": "idle"}]`, "bench: suite: json: cannot unmarshal array"},
		{`{"runs": [{"key": "idle", "title": "idle", "result": null}]}`, `bench: suite: run 1 ("idle") lacks its key or its result`},
		{`{"runs": [{"title": "idle", "result": {}}]}`, `bench: suite: run 1 ("idle") lacks its key or its result`},
	} {
		if _, err := ReadSuite(strings.NewReader(tc.in)); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("ReadSuite(%q): %v, want %q", tc.in, err, tc.want)
		}
	}
}
