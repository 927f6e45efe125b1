package receiver

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/imustream/imustream/sensor"
)

// SidecarFormat names the format of a recording's sidecar; a change that
// breaks its readers gets a new number, new fields do not.
const SidecarFormat = "imustream-recording/1"

// Column describes one column of a recording.
type Column struct {
	Name        string `json:"name"`
	Unit        string `json:"unit"` // "" for identifiers, counts and bit sets
	Description string `json:"description"`
}

// Columns describes the columns of CSVHeader, in order.
var Columns = []Column{
	{"session", "", "stream session, 8 hex digits; a new one means the daemon restarted the stream"},
	{"seq", "", "sequence number of the sample in its session (u32, wraps to 0)"},
	{"t_mono_ns", "ns", "device CLOCK_MONOTONIC at the sensor read"},
	{"t_wall_ns", "ns since the Unix epoch", "device CLOCK_REALTIME at the sensor read"},
	{"ax", "m/s²", "specific force along x (a device at rest reads +9.81 on the axis pointing up)"},
	{"ay", "m/s²", "specific force along y"},
	{"az", "m/s²", "specific force along z"},
	{"gx", "rad/s", "angular rate about x"},
	{"gy", "rad/s", "angular rate about y"},
	{"gz", "rad/s", "angular rate about z"},
	{"temp_c", "°C", "sensor temperature"},
	{"flags", "", "status bits, in decimal (see flags)"},
	{"late_ns", "ns", "how long after its deadline the sampling tick fired"},
	{"pressure_pa", "Pa", "barometric pressure; empty unless flags has the pressure bit"},
	{"mx", "µT", "magnetic field along x; empty unless flags has the mag bit"},
	{"my", "µT", "magnetic field along y"},
	{"mz", "µT", "magnetic field along z"},
	{"qw", "", "orientation quaternion w, body to world (ENU: x east, y north, z up); empty unless flags has the orientation bit"},
	{"qx", "", "orientation quaternion x"},
	{"qy", "", "orientation quaternion y"},
	{"qz", "", "orientation quaternion z"},
	{"t_pc_ns", "ns since the Unix epoch", "the PC's CLOCK_REALTIME at the sensor read: t_mono_ns mapped by the time sync; empty before its first estimate"},
}

// FlagBit describes one bit of the flags column.
type FlagBit struct {
	Bit     int    `json:"bit"`
	Mask    string `json:"mask"`
	Name    string `json:"name"`
	Meaning string `json:"meaning"`
}

// Flags describes the bits of the flags column.
var Flags = []FlagBit{
	flagBit(sensor.StatusSensorError, "sensor error", "the sensor read failed; the values are the last good ones (or zero)"),
	flagBit(sensor.StatusLate, "late", "the tick fired more than a quarter period after its deadline"),
	flagBit(sensor.StatusSkipped, "skipped", "ticks before this sample were skipped to keep the schedule"),
	flagBit(sensor.StatusSaturated, "saturated", "an accelerometer or gyroscope axis is at full scale"),
	flagBit(sensor.StatusReinit, "re-initialised", "the daemon re-initialised the sensor before this read"),
	flagBit(sensor.StatusPressure, "pressure", "pressure_pa holds a fresh reading"),
	flagBit(sensor.StatusMag, "mag", "mx, my, mz hold the magnetometer's latest reading"),
	flagBit(sensor.StatusOrientation, "orientation", "qw, qx, qy, qz hold an orientation"),
	flagBit(sensor.StatusMagOverflow, "mag overflow", "the magnetometer overflowed on some axis: no field"),
}

func flagBit(s sensor.Status, name, meaning string) FlagBit {
	bit := 0
	for s>>(bit+1) != 0 {
		bit++
	}
	return FlagBit{Bit: bit, Mask: fmt.Sprintf("0x%04x", uint16(s)), Name: name, Meaning: meaning}
}

// Daemon is what the daemon said about itself when the recording started.
type Daemon struct {
	Version string `json:"version"`
	Sensor  string `json:"sensor"`
	RateHz  int    `json:"rate_hz"`
	Batch   int    `json:"batch"`
	// Status holds every field of its status reply, ranges and
	// calibration among them where it reports them.
	Status map[string]string `json:"status"`
}

// Metadata is a recording's sidecar: what a reader of the CSV needs to
// know that the rows do not say. It is written as FILE.json beside
// FILE (SidecarPath); docs/protocol.md specifies it.
type Metadata struct {
	Format   string `json:"format"`    // SidecarFormat
	CSV      string `json:"csv"`       // the CSV file's name, without its directory
	CSVBytes int64  `json:"csv_bytes"` // its size and rows, to tell that the two belong together
	Rows     uint64 `json:"rows"`
	// Complete says that the recording ended as asked and every row was
	// written; Ended says how it ended.
	Complete bool   `json:"complete"`
	Ended    string `json:"ended"`
	Device   string `json:"device"` // the daemon's control address
	Daemon   Daemon `json:"daemon"`
	Recorder string `json:"recorder"` // the recording program and version
	// DurationAsked is --duration, counted from the first sample (0: until
	// interrupted).
	DurationAsked time.Duration `json:"duration_asked_ns"`
	// Start is the device's wall clock at the first sample (RFC 3339, UTC),
	// StartWallNs and StartMonoNs its t_wall_ns and t_mono_ns.
	Start       string    `json:"start"`
	StartWallNs int64     `json:"start_wall_ns"`
	StartMonoNs int64     `json:"start_mono_ns"`
	Columns     []Column  `json:"columns"`
	Flags       []FlagBit `json:"flags"`
	Summary     Summary   `json:"summary"`
	// FileFormat is "mcap" for an MCAP recording (the csv fields then name
	// the MCAP file, its size and its samples); absent for CSV.
	FileFormat string `json:"file_format,omitempty"`
	// TimeSync is what the time sync found at the end; absent without one.
	TimeSync *SyncSummary `json:"time_sync,omitempty"`
}

// NewMetadata fills the parts of a sidecar that r knows: the start, the
// rows and the summary, and the columns and flags.
func (r *Recorder) NewMetadata() *Metadata {
	m := &Metadata{
		Format: SidecarFormat, Rows: r.Rows(), CSVBytes: r.Written(),
		Columns: Columns, Flags: Flags, Summary: r.Summary(),
	}
	if r.Stats.Samples > 0 {
		m.StartWallNs, m.StartMonoNs = r.Stats.FirstWallNs, r.anchor
		m.Start = time.Unix(0, m.StartWallNs).UTC().Format(time.RFC3339Nano)
	}
	return m
}

// Marshal returns m as indented JSON, ending in a newline.
func (m *Metadata) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("receiver: metadata: %w", err)
	}
	return append(b, '\n'), nil
}
