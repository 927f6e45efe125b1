package detect_test

import (
	"encoding/json"
	"flag"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/detect"
	"github.com/imustream/imustream/sensor/detect/detecttest"
)

var update = flag.Bool("update", false, "regenerate the synthetic example trace in testdata")

const exampleTrace = "testdata/gy91-synthetic.json"

func TestHexJSON(t *testing.T) {
	for _, tc := range []struct {
		in   detect.Hex
		json string
	}{
		{detect.Hex{0x3B}, `"3b"`},
		{detect.Hex{0x00, 0x10, 0xFF}, `"00 10 ff"`},
		{detect.Hex{}, `""`},
	} {
		b, err := json.Marshal(tc.in)
		if err != nil || string(b) != tc.json {
			t.Errorf("Marshal(% x) = %s, %v; want %s", []byte(tc.in), b, err, tc.json)
		}
		var back detect.Hex
		if err := json.Unmarshal(b, &back); err != nil || string(back) != string(tc.in) {
			t.Errorf("round trip of %s: % x, %v", b, []byte(back), err)
		}
	}
	var h detect.Hex
	if err := json.Unmarshal([]byte(`"0010FF"`), &h); err != nil || string(h) != "\x00\x10\xff" {
		t.Errorf("without spaces: % x %v", []byte(h), err)
	}
	if err := json.Unmarshal([]byte(`"0g"`), &h); err == nil {
		t.Error("bad hex accepted")
	}
}

// A session through Recorder keeps the failed transactions in place, and
// its trace replays to the same result.
func TestRecordAndReplay(t *testing.T) {
	tr, err := detect.Session(detect.NewRecorder(detect.GY91()), detect.Config{}, 5, func() {})
	if err != nil {
		t.Fatal(err)
	}
	// Probe: 0x68 answers, 0x69, 0x6a, 0x6b, 0x28, 0x29, 0x1c, 0x1e fail,
	// 0x76 answers, 0x77 fails.
	var fails []uint16
	for _, op := range tr.Ops[:10] {
		if op.Err != "" {
			fails = append(fails, op.Addr)
			if op.RLen != 1 || op.Err != detect.ErrNACK.Error() {
				t.Errorf("failed op %+v", op)
			}
		}
	}
	if len(fails) != 8 || fails[0] != 0x69 || fails[7] != 0x77 {
		t.Errorf("failed probes at %#x", fails)
	}
	if len(tr.Samples) != 5 || len(tr.Found) != 2 {
		t.Fatalf("%d samples, found %v", len(tr.Samples), tr.Found)
	}
	path := filepath.Join(t.TempDir(), "t.json")
	if err := detect.WriteTrace(path, tr); err != nil {
		t.Fatal(err)
	}
	back, err := detecttest.ReadTrace(path)
	if err != nil {
		t.Fatal(err)
	}
	replay(t, back)
}

// replay runs the session of tr against tr's own transactions and checks
// that today's code does the same transactions and gets the same samples.
func replay(t *testing.T, tr *detect.Trace) {
	t.Helper()
	bus := detecttest.NewReplay(tr)
	got := &detect.Trace{Config: tr.Config, Reads: tr.Reads}
	err := detect.ReplaySession(bus, got, func() {})
	if (err != nil) != (tr.Error != "") {
		t.Errorf("session error %v; recorded %q", err, tr.Error)
	}
	if err := bus.Close(); err != nil {
		t.Error(err)
	}
	if len(got.Found) != len(tr.Found) {
		t.Fatalf("found %v; recorded %v", got.Found, tr.Found)
	}
	for i := range got.Found {
		if got.Found[i] != tr.Found[i] {
			t.Errorf("found[%d] %+v; recorded %+v", i, got.Found[i], tr.Found[i])
		}
	}
	if len(got.Samples) != len(tr.Samples) {
		t.Fatalf("%d samples; recorded %d", len(got.Samples), len(tr.Samples))
	}
	for i, s := range got.Samples {
		r := tr.Samples[i]
		if s.Status != r.Status || !close3(s.Accel, r.Accel) || !close3(s.Gyro, r.Gyro) || !closeTo(s.TempC, r.TempC) {
			t.Errorf("sample %d: %+v; recorded %+v", i, s, r)
		}
	}
}

func closeTo(a, b float32) bool {
	return math.Abs(float64(a-b)) <= 1e-5*math.Max(1, math.Abs(float64(b)))
}

func close3(a, b [3]float32) bool {
	return closeTo(a[0], b[0]) && closeTo(a[1], b[1]) && closeTo(a[2], b[2])
}

// Every trace in testdata, contributed or synthetic, replays.
func TestTestdataTraces(t *testing.T) {
	if *update {
		tr, err := detect.Session(detect.NewRecorder(detect.GY91()), detect.Config{}, detect.RecordReads, func() {})
		if err != nil {
			t.Fatal(err)
		}
		tr.Note = "synthetic: a register model of a GY-91 (MPU-9250 at 0x68, BMP280 at 0x76) lying flat, not a real chip; replace with a recording from hardware"
		if err := detect.WriteTrace(exampleTrace, tr); err != nil {
			t.Fatal(err)
		}
	}
	paths, err := filepath.Glob("testdata/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no traces in testdata: %v", err)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			tr, err := detecttest.ReadTrace(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(tr.Ops) == 0 {
				t.Fatal("empty trace")
			}
			replay(t, tr)
		})
	}
}

// The example lies flat and still: the recorded samples are physically
// right, which the replay alone does not show.
func TestExampleTraceAtRest(t *testing.T) {
	tr, err := detecttest.ReadTrace(exampleTrace)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tr.Note, "synthetic") || len(tr.Samples) != detect.RecordReads {
		t.Fatalf("note %q, %d samples", tr.Note, len(tr.Samples))
	}
	for i, s := range tr.Samples {
		a := math.Sqrt(float64(s.Accel[0]*s.Accel[0] + s.Accel[1]*s.Accel[1] + s.Accel[2]*s.Accel[2]))
		if math.Abs(a-sensor.StandardGravity) > 0.05*sensor.StandardGravity || s.Accel[2] < 9 {
			t.Errorf("sample %d: accel %v (|a| = %.3f), want about 1 g up", i, s.Accel, a)
		}
		for _, w := range s.Gyro {
			if math.Abs(float64(w)) > 0.02 { // about 1 °/s
				t.Errorf("sample %d: gyro %v, want nearly still", i, s.Gyro)
			}
		}
		if s.TempC < 20 || s.TempC > 30 {
			t.Errorf("sample %d: %g °C", i, s.TempC)
		}
	}
}

// A trace that no longer matches the code fails the replay.
func TestReplayDetectsDivergence(t *testing.T) {
	tr, err := detecttest.ReadTrace(exampleTrace)
	if err != nil {
		t.Fatal(err)
	}
	tr.Config.RateHz = 100 // the driver now writes another SMPLRT_DIV
	bus := detecttest.NewReplay(tr)
	got := &detect.Trace{Config: tr.Config, Reads: tr.Reads}
	if err := detect.ReplaySession(bus, got, func() {}); err == nil {
		t.Error("replay with another rate succeeded")
	}

	tr, _ = detecttest.ReadTrace(exampleTrace)
	tr.Ops[1].Addr = 0x6A // a failed probe recorded at another address
	bus = detecttest.NewReplay(tr)
	got = &detect.Trace{Config: tr.Config, Reads: tr.Reads}
	if err := detect.ReplaySession(bus, got, func() {}); err != nil {
		// Probe swallows the mismatch as "no answer", so the divergence
		// shows up at Close.
		t.Log(err)
	}
	if err := bus.Close(); err == nil {
		t.Error("Close did not notice the unused transactions")
	}
}
