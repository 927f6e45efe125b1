package stream

import (
	"fmt"
	"time"

	"github.com/imustream/imustream/internal/rt"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// fifoBuf is how many samples one FIFO read takes at most: more than the
// largest FIFO holds at 1 kHz for a tick of 200 Hz, and what is left stays
// in the chip for the next tick.
const fifoBuf = 512

// fifoReader is the sender's state for a sensor read through its FIFO: the
// chip keeps the time, so a tick reads every sample queued since the last
// one and sends them, up to the batch limit per datagram.
type fifoReader struct {
	b        sensor.Batcher // nil: the sensor is read once per tick
	buf      []sensor.Sample
	maxBatch int
	// session is the sender's session the reads are for; from is when
	// it started: the FIFO kept sampling while no one listened, and those
	// samples (and an overflow among them) are not the stream's.
	session uint32
	from    int64
}

// newFIFOReader sets up FIFO reading when cfg's sensor is read through its
// FIFO, and returns the tick rate.
func newFIFOReader(cfg *Config) (fifoReader, int, error) {
	b, ok := sensor.AsBatcher(cfg.Sensor)
	if !ok {
		return fifoReader{}, cfg.RateHz, nil
	}
	hz := cfg.FIFOTickHz
	if hz == 0 {
		hz = min(200, cfg.RateHz)
	}
	if err := sensor.CheckRate(hz); err != nil {
		return fifoReader{}, 0, fmt.Errorf("stream: FIFO tick: %w", err)
	}
	f := fifoReader{b: b, buf: make([]sensor.Sample, fifoBuf), maxBatch: telemetry.MaxBatch}
	if cfg.Pressure {
		f.maxBatch = telemetry.MaxBatchPressure
	}
	if cfg.MagQuat {
		f.maxBatch = telemetry.MaxBatchMagQuat
	}
	return f, hz, nil
}

// fifoTick is tick for a FIFO sensor. Samples taken before the session
// started are dropped. A late tick loses nothing (the FIFO
// held the samples) so it skips to the grid without flagging a sample
// skipped; the samples carry the tick's lateness in LateNs and the late
// flag, and the chip's own time in MonoNs and WallNs. A failed read sends
// nothing: the samples wait in the FIFO, and the chip's re-initialisation
// after repeated failures flags the first one after it.
func (s *Sender) fifoTick(deadline, now int64) int64 {
	p := s.period
	late := now - deadline
	var timing sensor.Status
	if late >= p {
		deadline += late / p * p
	}
	if late > p/4 {
		timing |= sensor.StatusLate
		s.c.late.Add(1)
	}
	if late > s.maxLate.Load() {
		s.maxLate.Store(late)
	}
	s.c.ticks.Add(1)
	s.lastTick.Store(now)

	f := &s.fifo
	if f.session != s.session {
		f.session, f.from = s.session, deadline
	}
	f.buf[0].MonoNs, f.buf[0].WallNs = now, rt.WallAt(now)
	n, err := f.b.ReadBatch(f.buf)
	if err != nil {
		s.c.sensorErrors.Add(1)
		s.logLimited(now, "sensor read failed", err, nil)
		return deadline + p
	}
	// An overflow flag on a dropped sample was before the session too.
	first := 0
	for first < n && f.buf[first].MonoNs < f.from {
		first++
	}
	for i := first; i < n; i++ {
		f.buf[i].LateNs = late
		f.buf[i].Status = f.buf[i].Status&^(sensor.StatusLate|sensor.StatusSkipped) | timing
	}
	for i := first; i < n; i += f.maxBatch {
		s.send(now, f.buf[i:min(n, i+f.maxBatch)])
	}
	return deadline + p
}

// FIFO reports whether the sender reads its sensor through the FIFO, and
// its tick period.
func (s *Sender) FIFO() (bool, time.Duration) {
	return s.fifo.b != nil, time.Duration(s.period)
}
