package receiver

import (
	"flag"
	"strings"
	"testing"
	"time"
)

// TestRecordFlags: the defaults, the format taken from --out, and the
// refusals, which name the flag.
func TestRecordFlags(t *testing.T) {
	for _, c := range []struct {
		args     []string
		out      string
		terminal bool
		format   string
		err      string
	}{
		{nil, "", false, FormatCSV, ""},
		{nil, "x.MCAP", false, FormatMCAP, ""},
		{[]string{"--format", "csv"}, "x.mcap", false, FormatCSV, ""},
		{[]string{"--format", "mcap"}, "-", false, FormatMCAP, ""},
		{[]string{"--format", "mcap"}, "-", true, "", "--format mcap to standard output"},
		{[]string{"--format", "txt"}, "", false, "", `--format "txt": want csv or mcap`},
		{[]string{"--duration", "-1s"}, "", false, "", "--duration -1s is negative"},
	} {
		var f RecordFlags
		fs := flag.NewFlagSet("record", flag.ContinueOnError)
		f.RegisterFlags(fs)
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		if f.Lease != DefaultLease {
			t.Errorf("%q: lease %s, want %s", c.args, f.Lease, DefaultLease)
		}
		err := f.Check(c.out, c.terminal)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%q, out %q: %v", c.args, c.out, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q, out %q: error %v, want %q", c.args, c.out, err, c.err)
		case c.err == "" && f.Format != c.format:
			t.Errorf("%q, out %q: format %q, want %q", c.args, c.out, f.Format, c.format)
		}
	}
	var f RecordFlags
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	f.RegisterFlags(fs)
	if err := fs.Parse([]string{"--duration", "90s", "--frame-id", "imu", "--no-sync", "--strict"}); err != nil {
		t.Fatal(err)
	}
	if f.Duration != 90*time.Second || f.FrameID != "imu" || !f.NoSync || !f.Strict {
		t.Errorf("flags not bound: %+v", f)
	}
}
