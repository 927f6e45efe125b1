// Package mcaprectest reads MCAP files in tests with the official
// TypeScript reader (@mcap/core, in tests/node-mcap), which shares nothing
// with the Go writer: what it decodes is what Foxglove and other tools
// see.
package mcaprectest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Message is one decoded message: the header and the fields of its type
// that imustream writes (the others are zero).
type Message struct {
	Topic   string `json:"topic"`
	Schema  string `json:"schema"`
	Seq     uint32 `json:"seq"`
	LogTime string `json:"log_time"` // a u64 in decimal
	Header  struct {
		Sec     int32  `json:"sec"`
		Nsec    uint32 `json:"nsec"`
		FrameID string `json:"frame_id"`
	} `json:"header"`
	Orientation                  []float64 `json:"orientation"`
	OrientationCovariance        []float64 `json:"orientation_covariance"`
	AngularVelocity              []float64 `json:"angular_velocity"`
	AngularVelocityCovariance    []float64 `json:"angular_velocity_covariance"`
	LinearAcceleration           []float64 `json:"linear_acceleration"`
	LinearAccelerationCovariance []float64 `json:"linear_acceleration_covariance"`
	Temperature                  float64   `json:"temperature"`
	FluidPressure                float64   `json:"fluid_pressure"`
	MagneticField                []float64 `json:"magnetic_field"`
}

// Stamp is the header stamp in ns since the Unix epoch.
func (m *Message) Stamp() int64 { return int64(m.Header.Sec)*1e9 + int64(m.Header.Nsec) }

// Result is what the reader found.
type Result struct {
	Profile  string `json:"profile"`
	Chunks   int    `json:"chunks"`
	Complete bool   `json:"complete"` // the reader reached the footer
	Error    string `json:"error"`    // the stream reader's error where the file stops
	Schemas  map[string]struct {
		Name     string `json:"name"`
		Encoding string `json:"encoding"`
		Data     string `json:"data"`
	} `json:"schemas"`
	Channels map[string]struct {
		Topic    string `json:"topic"`
		Schema   string `json:"schema"`
		Encoding string `json:"encoding"`
	} `json:"channels"`
	Compression  []string  `json:"compression"`
	MessageCount int64     `json:"message_count"`
	Messages     []Message `json:"messages"`
}

// Dir returns the directory of the node reader with its packages
// installed (npm ci, the first time). Without node or npm the test is
// skipped, saying which did not run, or, under CI, fails.
func Dir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "tests", "node-mcap")
	missing := func(what string, err error) {
		t.Helper()
		msg := t.Name() + " NOT run: it reads MCAP with the npm reader @mcap/core and needs " + what + " (Debian: nodejs npm; then npm ci in tests/node-mcap)"
		if os.Getenv("CI") != "" {
			t.Fatalf("%s: %v", msg, err)
		}
		t.Skipf("%s: %v", msg, err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@mcap", "core")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			missing("npm", err)
		}
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			missing("npm ci to work", fmtErr(err, out))
		}
	}
	return dir
}

type outErr struct {
	err error
	out []byte
}

func (e outErr) Error() string { return e.err.Error() + ": " + string(e.out) }

func fmtErr(err error, out []byte) error { return outErr{err, out} }

// Read reads path with the node reader: mode "indexed" (through the
// summary and the chunk indexes) or "stream" (front to back, as far as
// the file goes).
func Read(t testing.TB, mode, path string) *Result {
	t.Helper()
	dir := Dir(t)
	cmd := exec.Command("node", "read.mjs", mode, path)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("node read.mjs %s %s: %v\n%s", mode, path, err, stderr)
	}
	var r Result
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("node read.mjs %s: %v", mode, err)
	}
	return &r
}
