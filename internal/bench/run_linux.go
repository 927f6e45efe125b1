package bench

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/rt"
	"github.com/imustream/imustream/telemetry"
)

// gctrace makes a Go child print a line at each garbage collection.
const gctrace = "GODEBUG=gctrace=1"

// Run runs the daemon (and the baseline, the load and the floor probe)
// as child processes, streams from them on loopback and measures. The
// children are stopped when it returns, also when ctx ends first.
func Run(ctx context.Context, c Config) (*Result, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	r := &Result{Machine: readMachine(), LoadBefore: loadAvg(), Config: c,
		Command: "imustream " + strings.Join(c.Args(), " ")}
	s := &session{c: c, period: int64(time.Second) / int64(c.RateHz)}
	defer s.close()
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	w, err := s.measure(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.collect(r, w); err != nil {
		return nil, err
	}
	if err := s.wrapUp(ctx, r); err != nil {
		return nil, err
	}
	s.finish(r, w)
	if r.Product.Datagrams == 0 {
		return r, fmt.Errorf("bench: no datagram from the daemon:\n%s", s.daemon.stderrTail())
	}
	return r, nil
}

// session is one run's child processes and sockets and what they
// received. close undoes what start and the measurement set up, in the
// reverse order.
type session struct {
	c      Config
	period int64 // ns
	daemon *child
	ctl    netip.AddrPort // the daemon's control address
	loads  []*child
	// rx receives the product stream, and sends the commands that
	// subscribe it and the start/stop cycles.
	rx    *tsConn
	prod  *streamRec
	base  *baselineRun // nil without Config.Baseline
	peer  *peerRun     // nil without Config.Peer
	floor *child       // started with the measurement; nil without Config.Floor
	flood *flooder
	rig   *rigRun // nil without Config.Rig
	undo  []func()
}

// baselineRun is the baseline child and its stream.
type baselineRun struct {
	p    *child
	rec  *streamRec
	done chan struct{} // closed when receive returns
}

// window is the measurement: its bounds and the readings taken at its
// start that those at its end are compared with.
type window struct {
	start, end time.Time
	opened     bool  // the readings of the start are taken
	ours       []int // the bench's processes: itself, the daemon, the baseline, the load
	tids       []int // the daemon's real-time sender threads
	machine    cpuWindow
	daemonCPU  cpuSample
	baseCPU    cpuSample
	peerCPU    cpuSample
	switches   uint64        // the sender threads' at the start
	blocks     *SenderBlocks // from the switches at the end; nil without tids
}

func (s *session) onClose(f func()) { s.undo = append(s.undo, f) }

func (s *session) close() {
	for i := len(s.undo) - 1; i >= 0; i-- {
		s.undo[i]()
	}
}

// start starts the daemon, the load, the baseline and the floods, and
// opens the product stream's socket.
func (s *session) start(ctx context.Context) error {
	if err := s.startDaemon(); err != nil {
		return err
	}
	s.onClose(func() {
		for _, l := range s.loads {
			l.stop(syscall.SIGKILL, time.Second)
		}
	})
	for i := range s.c.Load {
		l, err := startChild(fmt.Sprintf("load %d", i), []string{SpinCommand})
		if err != nil {
			return err
		}
		s.loads = append(s.loads, l)
	}
	lo := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), 0)
	rx, err := listenTS(lo)
	if err != nil {
		return err
	}
	s.onClose(func() { rx.Close() })
	frames := int((s.c.Warmup+s.c.Duration).Seconds()*float64(s.c.RateHz))/s.c.Batch + 1024
	s.rx, s.prod = rx, newStreamRec(frames)
	if s.c.Baseline {
		if err := s.startBaseline(lo, frames); err != nil {
			return err
		}
	}
	if s.c.Peer != "" {
		if err := s.startPeer(lo, frames); err != nil {
			return err
		}
	}
	if err := s.startFloods(ctx); err != nil {
		return err
	}
	if err := s.startRig(ctx); err != nil {
		return err
	}
	if s.c.Load > 0 {
		time.Sleep(300 * time.Millisecond) // let the load processes spin up
	}
	return nil
}

// startDaemon starts the daemon and waits for its control address.
func (s *session) startDaemon() error {
	args := []string{"run", "--sim", "--listen", "127.0.0.1:0", "--allow", "127.0.0.1/32",
		"--rate", strconv.Itoa(s.c.RateHz), "--batch", strconv.Itoa(s.c.Batch),
		"--rt-priority", strconv.Itoa(s.c.RTPriority), "--cpu", s.c.CPU.String(), "--spin", s.c.Spin.String()}
	if s.c.Mlock {
		args = append(args, "--mlock")
	}
	if s.c.FIFO {
		args = append(args, "--fifo", "on")
	}
	if s.c.Rig {
		rigArgs, err := s.rigArgs()
		if err != nil {
			return err
		}
		args = append(args, rigArgs...)
	}
	d, err := startChild("daemon", args, gctrace)
	if err != nil {
		return err
	}
	s.daemon = d
	s.onClose(func() { d.stop(syscall.SIGTERM, 5*time.Second) })
	select {
	case a := <-d.ready:
		if s.ctl, err = netip.ParseAddrPort(a); err != nil {
			return fmt.Errorf("bench: daemon's address %q: %w", a, err)
		}
		return nil
	case <-d.done:
		return fmt.Errorf("bench: daemon exited (%v):\n%s", d.err, d.stderrTail())
	case <-time.After(10 * time.Second):
		return fmt.Errorf("bench: daemon not ready after 10 s:\n%s", d.stderrTail())
	}
}

// startBaseline starts the baseline, streaming to a socket of its own on
// lo, and a goroutine that records its stream.
func (s *session) startBaseline(lo netip.AddrPort, frames int) error {
	brx, err := listenTS(lo)
	if err != nil {
		return err
	}
	s.onClose(func() { brx.Close() })
	b := &baselineRun{rec: newStreamRec(frames), done: make(chan struct{})}
	args := baselineArgs{to: brx.addr(), rateHz: s.c.RateHz, batch: s.c.Batch}.args()
	if b.p, err = startChild("baseline", args, gctrace); err != nil {
		return err
	}
	s.onClose(func() { b.p.stop(syscall.SIGKILL, time.Second) })
	s.base = b
	go b.receive(brx)
	return nil
}

// receive records the baseline's stream until its end-of-stream datagram
// comes or rx is closed.
func (b *baselineRun) receive(rx *tsConn) {
	defer close(b.done)
	for {
		p, _, ts, err := rx.read(time.Time{})
		if err != nil {
			return
		}
		if typ, ok := b.rec.add(p, ts); ok && typ == telemetry.TypeEnd {
			return
		}
	}
}

// measure subscribes the product socket with a lease, renewed every
// second as the record command does, and records the stream through the
// warm-up and the measurement, taking the window's first readings when it
// starts.
func (s *session) measure(ctx context.Context) (*window, error) {
	subscribe := control.Command{Verb: control.VerbStart, Lease: 5 * time.Second}
	t0 := time.Now()
	if err := s.send(subscribe); err != nil {
		return nil, err
	}
	w := &window{start: t0.Add(s.c.Warmup), end: t0.Add(s.c.Warmup + s.c.Duration),
		tids: rtThreads(s.daemon.pid()), ours: s.pids()}
	renew := t0.Add(time.Second)
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		now := time.Now()
		if !w.opened && !now.Before(w.start) {
			if err := s.open(w); err != nil {
				return nil, err
			}
		}
		if !now.Before(w.end) {
			return w, nil
		}
		if !now.Before(renew) {
			if err := s.send(subscribe); err != nil {
				return nil, err
			}
			renew = renew.Add(time.Second)
		}
		dl := w.end
		if renew.Before(dl) {
			dl = renew
		}
		if !w.opened && w.start.Before(dl) {
			dl = w.start
		}
		if err := s.receive(dl); err != nil {
			return nil, err
		}
	}
}

// send sends cmd to the daemon from the product socket.
func (s *session) send(cmd control.Command) error {
	if _, err := s.rx.WriteToUDPAddrPort([]byte(cmd.String()+"\n"), s.ctl); err != nil {
		return fmt.Errorf("bench: send %s: %w", cmd.Verb, err)
	}
	return nil
}

// receive records the product stream's next datagram, waiting for it
// until dl at most; it fails when the daemon has exited.
func (s *session) receive(dl time.Time) error {
	b, _, ts, err := s.rx.read(dl)
	switch {
	case isTimeout(err):
		return nil
	case err != nil:
		return err
	}
	s.prod.add(b, ts)
	select {
	case <-s.daemon.done:
		return fmt.Errorf("bench: daemon exited (%v):\n%s", s.daemon.err, s.daemon.stderrTail())
	default:
		return nil
	}
}

// pids lists the bench's own processes.
func (s *session) pids() []int {
	ours := []int{os.Getpid(), s.daemon.pid()}
	if s.base != nil {
		ours = append(ours, s.base.p.pid())
	}
	if s.peer != nil {
		ours = append(ours, s.peer.p.pid())
	}
	for _, l := range s.loads {
		ours = append(ours, l.pid())
	}
	return ours
}

// open takes the readings of the window's start and starts the floor
// probe.
func (s *session) open(w *window) error {
	var err error
	if w.machine, err = sampleWindow(w.ours); err != nil {
		return err
	}
	if len(w.tids) > 0 {
		if w.switches, err = voluntarySwitches(s.daemon.pid(), w.tids); err != nil {
			return err
		}
	}
	if w.daemonCPU, err = readCPU(s.daemon.pid()); err != nil {
		return err
	}
	if s.c.Floor {
		if err := s.startFloor(); err != nil {
			return err
		}
	}
	if s.base != nil {
		if w.baseCPU, err = readCPU(s.base.p.pid()); err != nil {
			return err
		}
	}
	if s.peer != nil {
		if w.peerCPU, err = readCPU(s.peer.p.pid()); err != nil {
			return err
		}
	}
	w.opened = true
	return nil
}

// startFloor starts the floor probe for the rest of the measurement, its
// grid half a period off the daemon's (taken from the latest datagram).
func (s *session) startFloor() error {
	if len(s.prod.arr) == 0 {
		return errors.New("bench: no datagram before the measurement: no grid for the floor")
	}
	period := s.period
	grid := s.prod.arr[len(s.prod.arr)-1].deadline() + period/2
	first := rt.MonoClock{}.Now() + int64(50*time.Millisecond)
	first = grid + (first-grid+period-1)/period*period
	ticks := int((s.c.Duration - 100*time.Millisecond).Nanoseconds() / period)
	args := floorArgs{rateHz: s.c.RateHz, ticks: ticks, start: first,
		rtPriority: s.c.RTPriority, cpu: s.c.CPU, spin: s.c.Spin}.args()
	f, err := startChild("floor", args)
	if err != nil {
		return err
	}
	s.floor = f
	s.onClose(func() { f.stop(syscall.SIGKILL, time.Second) })
	return nil
}

// collect takes the readings of the window's end, fills r with the
// processes' figures and the floor's, and stops the baseline.
func (s *session) collect(r *Result, w *window) error {
	d := s.daemon.pid()
	cpu, err := readCPU(d)
	if err != nil {
		return err
	}
	m, err := sampleWindow(w.ours)
	if err != nil {
		return err
	}
	r.OtherCPU, r.StealMs = otherPercent(w.machine, m), stealMs(w.machine, m)
	if s.floor != nil {
		if r.Floor, err = floorOutcome(s.floor); err != nil {
			return err
		}
	}
	if len(w.tids) > 0 {
		sw, err := voluntarySwitches(d, w.tids)
		if err != nil {
			return err
		}
		w.blocks = &SenderBlocks{Threads: len(w.tids), Switches: sw - w.switches}
	}
	r.Product = *s.processResult("imustream", d, w.daemonCPU, cpu)
	if p := s.peer; p != nil {
		if cpu, err = readCPU(p.p.pid()); err != nil {
			return err
		}
		r.Peer = s.processResult("peer", p.p.pid(), w.peerCPU, cpu)
		r.Peer.Name = "peer " + filepath.Base(s.c.Peer)
		p.end()
	}
	if s.base == nil {
		return nil
	}
	b := s.base.p
	if cpu, err = readCPU(b.pid()); err != nil {
		return err
	}
	r.Baseline = s.processResult("time.Ticker", b.pid(), w.baseCPU, cpu)
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	return nil
}

// processResult is what the bench reads of process pid itself over the
// window whose CPU readings are a and b.
func (s *session) processResult(name string, pid int, a, b cpuSample) *StreamResult {
	r := &StreamResult{Name: name, Sched: readSched(pid), CPUPercent: cpuPercent(a, b), CPUPerTickUs: cpuPerTick(a, b, s.c.RateHz)}
	r.RSSKiB, r.PeakRSSKiB, _ = readMem(pid)
	return r
}

// wrapUp ends the streams, reads the daemon's status and runs the
// start/stop cycles.
func (s *session) wrapUp(ctx context.Context, r *Result) error {
	if err := s.endStream(); err != nil {
		return err
	}
	if s.base != nil {
		select {
		case <-s.base.done:
		case <-time.After(2 * time.Second):
		}
	}
	st, err := daemonStatus(s.ctl)
	if err != nil {
		return err
	}
	r.DaemonStatus = st
	r.FloodSent, r.CommandsSent = s.flood.sent.Load(), s.flood.commands.Load()
	if s.rig != nil {
		r.RigPackets, r.RigSamples = s.rig.packets.Load(), s.rig.samples.Load()
	}
	first, last, resent, err := startStopCycles(ctx, s.rx, s.ctl, s.c.Cycles, s.period)
	if err != nil {
		return err
	}
	r.StartToFirst, r.StopToEnd, r.CyclesResent = summarize(first), summarize(last), resent
	s.flood.stop()
	return nil
}

// endStream stops the product stream; the end-of-stream datagram tells
// what was sent. The stop is repeated (same id) until it comes, in case a
// flood crowded it out of the daemon's socket buffer.
func (s *session) endStream() error {
	stop := control.Command{ID: "end", Verb: control.VerbStop}
	for giveUp, next := time.Now().Add(5*time.Second), time.Now(); !s.prod.cnt.c.EndSeen && time.Now().Before(giveUp); {
		if !time.Now().Before(next) {
			if err := s.send(stop); err != nil {
				return err
			}
			next = next.Add(200 * time.Millisecond)
		}
		b, _, ts, err := s.rx.read(next)
		if isTimeout(err) {
			continue
		}
		if err != nil {
			return err
		}
		s.prod.add(b, ts)
	}
	return nil
}

// finish computes the streams' figures over the window.
func (s *session) finish(r *Result, w *window) {
	from, to := w.start.UnixNano(), w.end.UnixNano()
	s.prod.finish(&r.Product, from, to, s.period)
	if w.blocks != nil {
		w.blocks.Ticks = s.prod.samplesBetween(from, to)
		r.Product.SenderBlocks = w.blocks
	}
	// Without a flood the same split says how much two halves of one run
	// differ anyway.
	r.FloodOn, r.FloodOff = s.prod.phases(from, to, s.period, s.flood.on)
	r.Product.GCCycles = s.daemon.gcBetween(from, to)
	if r.Baseline != nil {
		<-s.base.done // the reader goroutine is done with the record
		s.base.rec.finish(r.Baseline, from, to, s.period)
		r.Baseline.GCCycles = s.base.p.gcBetween(from, to)
	}
	if r.Peer != nil {
		s.peer.rec.finish(r.Peer, from, to, s.period)
		r.Peer.Lateness, r.Peer.Reported = Summary{}, Summary{}
	}
	r.LoadAfter = loadAvg()
}
