package detect

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"

	"github.com/imustream/imustream/sensor"
)

// TraceFormat identifies version 1 of the trace file format.
const TraceFormat = "imustream-i2c-trace/1"

// Trace is a recorded session on an I²C bus, stored as JSON:
//
//	{
//	  "format": "imustream-i2c-trace/1",
//	  "note": "GY-521 on a Pi 4, flat on the desk",
//	  "created": "2026-01-01T12:00:00Z",
//	  "bus": "1",
//	  "config": {"rate_hz": 200},
//	  "reads": 20,
//	  "found": [{"addr": 104, "kind": "mpu6050", "chip": "MPU-6050", "id_reg": 117, "id": 104}],
//	  "ops": [
//	    {"addr": 104, "w": "75", "r": "68"},
//	    {"addr": 105, "w": "75", "rlen": 1, "err": "sysfs-i2c: remote I/O error"},
//	    {"addr": 104, "w": "6b 80"},
//	    {"addr": 104, "w": "3b", "r": "00 10 ff 80 3f f0 f4 c0 00 05 ff f9 00 02"}
//	  ],
//	  "samples": [{"accel": [0.0048, -0.0383, 9.787], "gyro": [0.0013, -0.0012, 0.0005], "temp_c": 24.6, "status": 0}]
//	}
//
// Ops are every transaction in order: addr is the 7-bit address in
// decimal, w and r the bytes written and read in hex, and a failed
// transaction (a probe that got no ACK, say) has err and the length of the
// read it attempted in rlen. Config is what the session opened the IMU
// with, reads how many samples it read, and samples what the driver made of
// them then, so that a replay can check today's driver against it.
type Trace struct {
	Format  string        `json:"format"`
	Note    string        `json:"note,omitempty"`
	Created string        `json:"created,omitempty"`
	Bus     string        `json:"bus"`
	Config  Config        `json:"config"`
	Reads   int           `json:"reads"`
	Found   []Found       `json:"found"`
	Ops     []Op          `json:"ops"`
	Samples []TraceSample `json:"samples,omitempty"`
	// Error is the session's error, if it ended with one.
	Error string `json:"error,omitempty"`
}

// Op is one transaction of a Trace.
type Op struct {
	Addr uint16 `json:"addr"`
	W    Hex    `json:"w,omitempty"`
	R    Hex    `json:"r,omitempty"`
	RLen int    `json:"rlen,omitempty"` // failed ops only
	Err  string `json:"err,omitempty"`
}

// TraceSample is the part of a sensor.Sample a driver sets.
type TraceSample struct {
	Accel  [3]float32    `json:"accel"`
	Gyro   [3]float32    `json:"gyro"`
	TempC  float32       `json:"temp_c"`
	Status sensor.Status `json:"status"`
}

// Hex is bytes that JSON shows as space-separated hex, "3b 00 ff".
type Hex []byte

// MarshalJSON implements json.Marshaler.
func (h Hex) MarshalJSON() ([]byte, error) {
	s := make([]string, len(h))
	for i, b := range h {
		s[i] = hex.EncodeToString([]byte{b})
	}
	return json.Marshal(strings.Join(s, " "))
}

// UnmarshalJSON implements json.Unmarshaler; spaces are optional.
func (h *Hex) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return fmt.Errorf("detect: bad hex %q: %w", s, err)
	}
	*h = v
	return nil
}

// WriteTrace stores t as JSON with one transaction, device or sample per
// line, so that a contributed trace reads well in a review.
func WriteTrace(path string, t *Trace) error {
	b, err := t.encode()
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("detect: writing trace: %w", err)
	}
	return nil
}

func (t *Trace) encode() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("{")
	sep := "\n"
	put := func(key string, v []byte) {
		b.WriteString(sep + "  " + strconv.Quote(key) + ": ")
		b.Write(v)
		sep = ",\n"
	}
	scalar := func(key string, v any) error {
		j, err := json.Marshal(v)
		put(key, j)
		return err
	}
	var errs []error
	errs = append(errs, scalar("format", t.Format))
	if t.Note != "" {
		errs = append(errs, scalar("note", t.Note))
	}
	if t.Created != "" {
		errs = append(errs, scalar("created", t.Created))
	}
	errs = append(errs, scalar("bus", t.Bus), scalar("config", t.Config), scalar("reads", t.Reads))
	put("found", lines(t.Found, &errs))
	put("ops", lines(t.Ops, &errs))
	if len(t.Samples) > 0 {
		put("samples", lines(t.Samples, &errs))
	}
	if t.Error != "" {
		errs = append(errs, scalar("error", t.Error))
	}
	b.WriteString("\n}\n")
	return b.Bytes(), errors.Join(errs...)
}

// lines encodes a JSON array with one element per line.
func lines[T any](items []T, errs *[]error) []byte {
	if len(items) == 0 {
		return []byte("[]")
	}
	var b bytes.Buffer
	b.WriteString("[")
	for i, v := range items {
		j, err := json.Marshal(v)
		*errs = append(*errs, err)
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n    ")
		b.Write(j)
	}
	b.WriteString("\n  ]")
	return b.Bytes()
}

// Recorder is an i2c.Bus that records every transaction on Bus. The
// successful ones go through an i2ctest.Record; the failed ones, which
// i2ctest.Record drops, are kept with their position, because a probe's
// unanswered addresses are part of what a replay must reproduce.
type Recorder struct {
	mu     sync.Mutex
	rec    i2ctest.Record
	failed []failedOp
}

type failedOp struct {
	at int // successful ops before it
	op Op
}

// NewRecorder records the traffic on bus.
func NewRecorder(bus i2c.Bus) *Recorder {
	return &Recorder{rec: i2ctest.Record{Bus: bus}}
}

func (r *Recorder) String() string { return "record(" + r.rec.Bus.String() + ")" }

// Tx implements i2c.Bus.
func (r *Recorder) Tx(addr uint16, w, rd []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.rec.Tx(addr, w, rd)
	if err != nil {
		r.failed = append(r.failed, failedOp{at: len(r.rec.Ops), op: Op{Addr: addr, W: bytes.Clone(w), RLen: len(rd), Err: err.Error()}})
	}
	return err
}

// SetSpeed implements i2c.Bus.
func (r *Recorder) SetSpeed(f physic.Frequency) error { return r.rec.SetSpeed(f) }

// Ops returns everything recorded so far, in order.
func (r *Recorder) Ops() []Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Op, 0, len(r.rec.Ops)+len(r.failed))
	f := 0
	for i := 0; i <= len(r.rec.Ops); i++ {
		for ; f < len(r.failed) && r.failed[f].at == i; f++ {
			out = append(out, r.failed[f].op)
		}
		if i < len(r.rec.Ops) {
			io := r.rec.Ops[i]
			out = append(out, Op{Addr: io.Addr, W: io.W, R: io.R})
		}
	}
	return out
}

// RecordReads is how many samples ProbeBus reads into a trace.
const RecordReads = 20

// ProbeBus opens the bus cfg names (with the same checks as Open) and
// probes it. The error wraps sensor.ErrNotFound, with what to check, when
// no supported IMU answered.
//
// With recordPath set it also opens the first IMU found (or the one cfg
// names) with cfg's options, reads RecordReads samples at cfg's rate, halts
// it, and writes all of it to recordPath as a Trace, also when the session
// fails. That resets the chip: stop a running daemon first.
func ProbeBus(cfg Config, recordPath string) ([]Found, error) {
	bus, err := openBus(&cfg)
	if err != nil {
		return nil, err
	}
	defer bus.Close()
	if recordPath == "" {
		found := Probe(bus)
		for _, f := range found {
			if f.IMU() {
				return found, nil
			}
		}
		return found, notFound(&cfg, found)
	}
	rec := NewRecorder(bus)
	rate := cfg.RateHz
	if rate <= 0 {
		rate = 200
	}
	period := time.Second / time.Duration(rate)
	t, err := session(rec, cfg, RecordReads, func() { time.Sleep(period) })
	t.Created = time.Now().UTC().Format(time.RFC3339)
	t.Note = "recorded by imustream probe --record"
	if werr := WriteTrace(recordPath, t); werr != nil {
		return t.Found, errors.Join(err, werr)
	}
	return t.Found, err
}

// session is what ProbeBus records and the trace tests replay: probe, open
// the IMU, read, halt. It returns the trace without timestamps.
func session(rec *Recorder, cfg Config, reads int, pause func()) (*Trace, error) {
	t := &Trace{Format: TraceFormat, Bus: cfg.bus(), Config: cfg, Reads: reads}
	err := replaySession(rec, t, pause)
	t.Ops = rec.Ops()
	if err != nil {
		t.Error = err.Error()
	}
	return t, err
}

// replaySession runs the session on bus with t.Config and t.Reads and
// fills t.Found and t.Samples.
func replaySession(bus i2c.Bus, t *Trace, pause func()) error {
	cfg := t.Config
	// A barometer goroutine would interleave its transactions at random.
	cfg.Pressure = false
	t.Found = Probe(bus)
	if cfg.Addr == 0 {
		for _, f := range t.Found {
			if f.IMU() && (cfg.kind() == Auto || f.Kind == cfg.kind()) {
				cfg.Addr, cfg.Kind = f.Addr, f.Kind
				break
			}
		}
		if cfg.Addr == 0 {
			return notFound(&cfg, t.Found)
		}
	}
	d, err := OpenBus(bus, cfg)
	if err != nil {
		return err
	}
	var s sensor.Sample
	var errs []error
	for range t.Reads {
		pause()
		if err := d.Read(&s); err != nil {
			errs = append(errs, err)
		}
		t.Samples = append(t.Samples, TraceSample{Accel: s.Accel, Gyro: s.Gyro, TempC: s.TempC, Status: s.Status})
	}
	errs = append(errs, d.Halt())
	return errors.Join(errs...)
}
