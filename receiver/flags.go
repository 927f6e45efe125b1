package receiver

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/imustream/imustream/mcaprec"
)

// The formats of a recording's file.
const (
	FormatCSV  = "csv"
	FormatMCAP = "mcap"
)

// RecordFlags are imustream record's settings of a recording (RecordConfig and
// Report take them); the file to write stays the command's.
type RecordFlags struct {
	Duration, Lease time.Duration
	Strict, NoSync  bool
	Format, FrameID string
}

// RegisterFlags adds the recording's flags to fs, bound to f, with the
// CLI's defaults.
func (f *RecordFlags) RegisterFlags(fs *flag.FlagSet) {
	fs.DurationVar(&f.Duration, "duration", 0, "how long to record, counted from the first sample: a `DURATION` like 90s or 5m (0: until Ctrl-C)")
	fs.DurationVar(&f.Lease, "lease", DefaultLease, "the stream's lease, a `DURATION`: it ends by itself this long after the recorder dies")
	fs.BoolVar(&f.Strict, "strict", false, "exit 1 if any sample was lost or the count is off by more than 1 % of rate × duration")
	fs.StringVar(&f.Format, "format", "", "`csv` or mcap (ROS 2 messages, zstd chunks); default: mcap for an --out FILE ending in .mcap, else csv")
	fs.StringVar(&f.FrameID, "frame-id", mcaprec.DefaultFrameID, "the MCAP messages' header.frame_id, a `NAME`")
	fs.BoolVar(&f.NoSync, "no-sync", false, "do not estimate the device's clock: t_pc_ns stays empty, MCAP stamps are the device's wall clock")
}

// Check checks --format, or takes it from the extension of out (the
// --out FILE, '-' for standard output, which is a terminal if
// stdoutTerminal), and --duration. Its errors name the flags: they are
// the command line's.
func (f *RecordFlags) Check(out string, stdoutTerminal bool) error {
	switch f.Format {
	case "":
		f.Format = FormatCSV
		if strings.EqualFold(filepath.Ext(out), ".mcap") {
			f.Format = FormatMCAP
		}
	case FormatCSV, FormatMCAP:
	default:
		return fmt.Errorf("--format %q: want csv or mcap", f.Format)
	}
	if f.Format == FormatMCAP && out == "-" && stdoutTerminal {
		return errors.New("--format mcap to standard output, which is a terminal: give --out FILE.mcap or redirect it")
	}
	if f.Duration < 0 {
		return fmt.Errorf("--duration %s is negative: give how long to record, or 0 to record until Ctrl-C", f.Duration)
	}
	return nil
}
