package view

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imustream/imustream/internal/dropq"
	"github.com/imustream/imustream/receiver"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// HubConfig is how a Hub paces the pages. Zero fields mean the defaults.
type HubConfig struct {
	// FPS is how many frames a second go to each page. It defaults to 30.
	FPS int
	// PointsPerSecond bounds the samples per second a page gets: a
	// faster stream is decimated to every n-th sample (each kept sample
	// is a real one, values as recorded). It defaults to 250, more than
	// a 10 s plot of ~1000 pixels can show.
	PointsPerSecond int
	// HealthEvery is how often a frame carries the health. It defaults
	// to 250 ms.
	HealthEvery time.Duration
	// Queue is each page's queue of frames. It defaults to 32 (about a
	// second at 30 FPS): a page slower than that loses its oldest frames,
	// counted.
	Queue int
	// Title is what the page shows as the device; the View sets it.
	Title string
	// ReadOnly, when set, is why the page cannot start or stop the
	// stream (it is read from NATS, where the bridge holds the lease):
	// the page hides its buttons and shows this instead.
	ReadOnly string
}

func (c *HubConfig) defaults() {
	if c.FPS <= 0 {
		c.FPS = 30
	}
	if c.PointsPerSecond <= 0 {
		c.PointsPerSecond = 250
	}
	if c.HealthEvery <= 0 {
		c.HealthEvery = 250 * time.Millisecond
	}
	if c.Queue <= 0 {
		c.Queue = 32
	}
}

// JitterEdgesUs are the edges of the jitter histogram: a sample's interval
// from the one before on the device's clock, minus the nominal period, in
// µs. Bucket i counts [edge i-1, edge i); the first and last are open.
var JitterEdgesUs = [...]int64{-1000, -500, -200, -100, -50, -20, -10, 10, 20, 50, 100, 200, 500, 1000}

// point is one sample kept for the pages.
type point struct {
	session, seq uint32
	mono         int64
	s            sensor.Sample
}

// Hub takes samples from the receive path (Sample, which never waits)
// and sends frames of them to the pages.
type Hub struct {
	cfg HubConfig

	mu       sync.Mutex
	pend     []point // kept since the last frame
	spare    []point
	overflow uint64 // points not kept: the frame loop fell behind
	arrived  uint64 // samples since the last frame, all of them
	samples  uint64 // samples seen, all runs
	keep     uint64 // counts samples for the decimation
	rateHz   uint16
	present  sensor.Status // StatusMag | StatusOrientation | StatusPressure seen
	prev     struct {
		session, seq uint32
		mono         int64
		ok           bool
	}
	jitter   [len(JitterEdgesUs) + 1]uint64
	prog     receiver.Progress
	running  bool
	pages    map[*page]struct{}
	lastRate struct {
		at      time.Time
		samples uint64
		hz      float64
	}

	// kick wakes the frame loop when a frame's worth of device time has
	// arrived (Sample): the receiving thread is awake then, so the frame
	// goes out at once instead of waiting for a timer that a busy machine
	// wakes late (measured: p90 85 ms late at 30 FPS under load ~28).
	kick     chan struct{}
	kickMono int64 // device time of the last kick

	frames, dropped, pagesSeen atomic.Uint64
}

// page is one browser connection's queue.
type page struct{ q *dropq.Queue }

// NewHub returns a hub; Run sends its frames.
func NewHub(cfg HubConfig) *Hub {
	cfg.defaults()
	return &Hub{cfg: cfg, pages: map[*page]struct{}{}, kick: make(chan struct{}, 1)}
}

// Sample takes one sample recorded: a receiver OnSample. It returns at
// once; decimated away or not, the sample counts in the rate and the
// jitter.
func (h *Hub) Sample(hd *telemetry.Header, seq uint32, s *sensor.Sample) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.samples++
	h.arrived++
	h.rateHz = hd.RateHz
	h.present |= s.Status & (sensor.StatusMag | sensor.StatusOrientation | sensor.StatusPressure)
	if p := &h.prev; p.ok && p.session == hd.Session && seq == p.seq+1 && hd.RateHz > 0 {
		dev := (s.MonoNs - p.mono - int64(time.Second)/int64(hd.RateHz)) / 1000
		i := 0
		for i < len(JitterEdgesUs) && dev >= JitterEdgesUs[i] {
			i++
		}
		h.jitter[i]++
	}
	h.prev.session, h.prev.seq, h.prev.mono, h.prev.ok = hd.Session, seq, s.MonoNs, true
	if d := s.MonoNs - h.kickMono; d >= int64(time.Second)/int64(h.cfg.FPS) || d < 0 {
		h.kickMono = s.MonoNs
		select {
		case h.kick <- struct{}{}:
		default:
		}
	}
	stride := uint64(1)
	if r := uint64(hd.RateHz); r > uint64(h.cfg.PointsPerSecond) {
		stride = (r + uint64(h.cfg.PointsPerSecond) - 1) / uint64(h.cfg.PointsPerSecond)
	}
	h.keep++
	if (h.keep-1)%stride != 0 {
		return
	}
	if len(h.pend) >= 4*h.cfg.PointsPerSecond { // the frame loop is 4 s behind
		h.overflow++
		return
	}
	h.pend = append(h.pend, point{session: hd.Session, seq: seq, mono: s.MonoNs, s: *s})
}

// SetProgress records a run's progress (receiver.RecordConfig.OnLive).
func (h *Hub) SetProgress(p receiver.Progress) {
	h.mu.Lock()
	h.prog = p
	h.mu.Unlock()
}

// SetRunning says whether a run is on, for the pages' buttons.
func (h *Hub) SetRunning(on bool) {
	h.mu.Lock()
	h.running = on
	if on {
		h.prev.ok = false
	}
	h.mu.Unlock()
}

// HubStats are the hub's counters.
type HubStats struct {
	Samples  uint64 // samples taken
	Frames   uint64 // frames queued to pages
	Dropped  uint64 // of those, dropped because a page was slow
	Overflow uint64 // samples not kept because the frame loop fell behind
	Pages    uint64 // page connections
}

func (h *Hub) Stats() HubStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return HubStats{Samples: h.samples, Frames: h.frames.Load(), Dropped: h.dropped.Load(), Overflow: h.overflow, Pages: h.pagesSeen.Load()}
}

// Run sends a frame to every page FPS times a second until ctx ends:
// when a frame period of device time has arrived, or by the clock when
// none does (a stopped stream still shows its health).
func (h *Hub) Run(ctx context.Context) {
	period := time.Second / time.Duration(h.cfg.FPS)
	t := time.NewTicker(period)
	defer t.Stop()
	var buf []byte
	var frame uint64
	var lastHealth, lastFrame time.Time
	for {
		var now time.Time
		select {
		case <-ctx.Done():
			h.mu.Lock()
			for p := range h.pages {
				p.q.Close() // their connections end
			}
			h.mu.Unlock()
			return
		case <-h.kick:
			now = time.Now()
		case now = <-t.C:
			if now.Sub(lastFrame) < 2*period {
				continue // the data's kicks keep the pace
			}
		}
		withHealth := now.Sub(lastHealth) >= h.cfg.HealthEvery
		if withHealth {
			lastHealth = now
		}
		select {
		case <-h.kick: // a kick while the clock's frame was due: it took the data
		default:
		}
		frame++
		lastFrame = now
		buf = h.frame(buf[:0], frame, withHealth, now)
		if buf == nil {
			continue
		}
		h.broadcast(buf)
	}
}

// frame encodes the points since the last frame; nil when no page
// listens.
func (h *Hub) frame(b []byte, n uint64, withHealth bool, now time.Time) []byte {
	h.mu.Lock()
	pts := h.pend
	h.pend, h.spare = h.spare[:0], pts
	arrived := h.arrived
	h.arrived = 0
	// The rate over the last second or more: batches arrive in bursts.
	if r := &h.lastRate; r.at.IsZero() {
		r.at, r.samples = now, h.samples
	} else if dt := now.Sub(r.at); dt >= time.Second {
		r.hz = float64(h.samples-r.samples) / dt.Seconds()
		r.at, r.samples = now, h.samples
	}
	if len(h.pages) == 0 {
		h.mu.Unlock()
		return nil
	}
	present := h.present
	b = append(b, `{"type":"data","frame":`...)
	b = strconv.AppendUint(b, n, 10)
	b = append(b, `,"n":`...)
	b = strconv.AppendUint(b, arrived, 10)
	b = append(b, `,"total":`...)
	b = strconv.AppendUint(b, h.samples, 10)
	if withHealth {
		b = h.appendHealth(b)
	}
	h.mu.Unlock()

	b = append(b, `,"session":[`...)
	for i := range pts {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = appendHex32(b, pts[i].session)
		b = append(b, '"')
	}
	b = append(b, `],"seq":[`...)
	for i := range pts {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(pts[i].seq), 10)
	}
	// Device time as a decimal string: ns exceed a double's 53 bits.
	b = append(b, `],"mono":[`...)
	for i := range pts {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = strconv.AppendInt(b, pts[i].mono, 10)
		b = append(b, '"')
	}
	b = append(b, ']')
	col := func(name string, f func(s *sensor.Sample) (float32, bool)) {
		b = append(b, `,"`...)
		b = append(b, name...)
		b = append(b, `":[`...)
		for i := range pts {
			if i > 0 {
				b = append(b, ',')
			}
			if v, ok := f(&pts[i].s); ok {
				b = appendFloat(b, v)
			} else {
				b = append(b, "null"...)
			}
		}
		b = append(b, ']')
	}
	always := func(v float32) (float32, bool) { return v, true }
	col("ax", func(s *sensor.Sample) (float32, bool) { return always(s.Accel[0]) })
	col("ay", func(s *sensor.Sample) (float32, bool) { return always(s.Accel[1]) })
	col("az", func(s *sensor.Sample) (float32, bool) { return always(s.Accel[2]) })
	col("gx", func(s *sensor.Sample) (float32, bool) { return always(s.Gyro[0]) })
	col("gy", func(s *sensor.Sample) (float32, bool) { return always(s.Gyro[1]) })
	col("gz", func(s *sensor.Sample) (float32, bool) { return always(s.Gyro[2]) })
	col("temp", func(s *sensor.Sample) (float32, bool) { return always(s.TempC) })
	if present&sensor.StatusMag != 0 {
		mag := func(i int) func(s *sensor.Sample) (float32, bool) {
			return func(s *sensor.Sample) (float32, bool) {
				return s.Mag[i], s.Status&sensor.StatusMag != 0 && s.Status&sensor.StatusMagOverflow == 0
			}
		}
		col("mx", mag(0))
		col("my", mag(1))
		col("mz", mag(2))
	}
	if present&sensor.StatusOrientation != 0 {
		q := func(i int) func(s *sensor.Sample) (float32, bool) {
			return func(s *sensor.Sample) (float32, bool) { return s.Quat[i], s.Status&sensor.StatusOrientation != 0 }
		}
		col("qw", q(0))
		col("qx", q(1))
		col("qy", q(2))
		col("qz", q(3))
	}
	if present&sensor.StatusPressure != 0 {
		col("p", func(s *sensor.Sample) (float32, bool) { return s.PressurePa, s.Status&sensor.StatusPressure != 0 })
	}
	return append(b, '}')
}

// appendHealth adds the stream's health; h.mu is held.
func (h *Hub) appendHealth(b []byte) []byte {
	p := &h.prog
	b = append(b, `,"health":{"running":`...)
	b = strconv.AppendBool(b, h.running)
	b = append(b, `,"rateHz":`...)
	b = strconv.AppendFloat(b, math.Round(h.lastRate.hz*10)/10, 'f', -1, 64)
	b = append(b, `,"nominalHz":`...)
	b = strconv.AppendUint(b, uint64(h.rateHz), 10)
	for _, f := range []struct {
		name string
		v    uint64
	}{{"samples", p.Samples}, {"lost", p.Lost}, {"duplicated", p.Duplicated}, {"reordered", p.Reordered},
		{"late", p.Late}, {"sensorErrors", p.SensorErrors}, {"overflow", h.overflow}, {"dropped", h.dropped.Load()}} {
		b = append(b, `,"`...)
		b = append(b, f.name...)
		b = append(b, `":`...)
		b = strconv.AppendUint(b, f.v, 10)
	}
	b = append(b, `,"elapsedS":`...)
	b = strconv.AppendFloat(b, math.Round(p.Elapsed.Seconds()*10)/10, 'f', -1, 64)
	b = append(b, `,"jitterEdgesUs":[`...)
	for i, e := range JitterEdgesUs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, e, 10)
	}
	b = append(b, `],"jitter":[`...)
	for i, n := range h.jitter {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, n, 10)
	}
	return append(b, "]}"...)
}

// broadcast queues a copy of the frame to every page.
func (h *Hub) broadcast(frame []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for p := range h.pages {
		h.frames.Add(1)
		if p.q.Push(append([]byte(nil), frame...)) {
			h.dropped.Add(1)
		}
	}
}

func (h *Hub) add(p *page) {
	hello, _ := json.Marshal(struct {
		Type     string `json:"type"`
		Device   string `json:"device"`
		ReadOnly string `json:"readOnly,omitempty"`
	}{"hello", h.cfg.Title, h.cfg.ReadOnly})
	p.q.Push(hello)
	h.mu.Lock()
	h.pages[p] = struct{}{}
	h.mu.Unlock()
	h.pagesSeen.Add(1)
}

func (h *Hub) remove(p *page) {
	h.mu.Lock()
	delete(h.pages, p)
	h.mu.Unlock()
	p.q.Close()
}

func appendHex32(b []byte, v uint32) []byte {
	const hex = "0123456789abcdef"
	for sh := 28; sh >= 0; sh -= 4 {
		b = append(b, hex[v>>sh&0xf])
	}
	return b
}

// appendFloat writes v as the CSV does (shortest float32 form); JSON has
// no NaN or infinity, so those become null.
func appendFloat(b []byte, v float32) []byte {
	if v != v || math.IsInf(float64(v), 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, float64(v), 'g', -1, 32)
}
