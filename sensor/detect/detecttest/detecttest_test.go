package detecttest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imustream/imustream/sensor/detect"
	"github.com/imustream/imustream/sensor/detect/detecttest"
)

// trace: a read at 0x68, a probe of 0x69 that got no ACK, a write at 0x68.
func trace() *detect.Trace {
	return &detect.Trace{Format: detect.TraceFormat, Ops: []detect.Op{
		{Addr: 0x68, W: detect.Hex{0x75}, R: detect.Hex{0x71}},
		{Addr: 0x69, W: detect.Hex{0x75}, RLen: 1, Err: "remote I/O error"},
		{Addr: 0x68, W: detect.Hex{0x6B, 0x01}},
	}}
}

func TestReplay(t *testing.T) {
	r := detecttest.NewReplay(trace())
	var b [1]byte
	if err := r.Tx(0x68, []byte{0x75}, b[:]); err != nil || b[0] != 0x71 {
		t.Errorf("op 0: read %#x, %v; want 0x71", b[0], err)
	}
	if err := r.Close(); err == nil || !strings.HasPrefix(err.Error(), "detecttest: ") {
		t.Errorf("Close after 1 of 3 ops: %v", err)
	}
	if err := r.Tx(0x69, []byte{0x75}, b[:]); err == nil || err.Error() != "remote I/O error" {
		t.Errorf("op 1: %v; want the recorded error", err)
	}
	if err := r.Tx(0x68, []byte{0x6B, 0x01}, nil); err != nil {
		t.Errorf("op 2: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close after every op: %v", err)
	}
}

func TestReplayMismatch(t *testing.T) {
	var b [1]byte
	var two [2]byte
	for _, tc := range []struct {
		name  string
		addr  uint16
		w, rd []byte
	}{
		{"address", 0x6A, []byte{0x75}, b[:]},
		{"bytes written", 0x69, []byte{0x0F}, b[:]},
		{"read length", 0x69, []byte{0x75}, two[:]},
	} {
		r := detecttest.NewReplay(trace())
		if err := r.Tx(0x68, []byte{0x75}, b[:]); err != nil {
			t.Fatal(err)
		}
		err := r.Tx(tc.addr, tc.w, tc.rd)
		if err == nil || !strings.HasPrefix(err.Error(), "detecttest: replay op 1") {
			t.Errorf("a failed op replayed with another %s: %v", tc.name, err)
		}
	}
	// A successful op is Playback's to check.
	r := detecttest.NewReplay(trace())
	if err := r.Tx(0x68, []byte{0x3B}, b[:]); err == nil {
		t.Error("a read of another register replayed")
	}
}

func TestReadTrace(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := detect.WriteTrace(good, trace()); err != nil {
		t.Fatal(err)
	}
	tr, err := detecttest.ReadTrace(good)
	if err != nil || len(tr.Ops) != 3 || tr.Ops[1].Err != "remote I/O error" || string(tr.Ops[2].W) != "\x6b\x01" {
		t.Fatalf("ReadTrace = %+v, %v", tr, err)
	}
	other := filepath.Join(dir, "other.json")
	if err := detect.WriteTrace(other, &detect.Trace{Format: "other/1"}); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"format": "imustream-i2c-trace/1", "ops": [{"w": "3g"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, says string }{
		{other, detect.TraceFormat},
		{bad, "bad hex"},
		{filepath.Join(dir, "missing.json"), "no such file"},
	} {
		if _, err := detecttest.ReadTrace(tc.path); err == nil || !strings.HasPrefix(err.Error(), "detecttest: ") || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("ReadTrace(%s): %v; want an error saying %q", filepath.Base(tc.path), err, tc.says)
		}
	}
}
