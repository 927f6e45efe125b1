package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/rt"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// benchConfig is one bench run's settings.
type benchConfig struct {
	Duration   time.Duration `json:"-"`
	Warmup     time.Duration `json:"-"`
	Seconds    float64       `json:"duration_s"`
	WarmupSecs float64       `json:"warmup_s"`
	RateHz     int           `json:"rate_hz"`
	Batch      int           `json:"batch"`
	Load       int           `json:"load"`
	FloodPPS   int           `json:"flood_pps"`
	Commands   int           `json:"commands_pps"`
	Baseline   bool          `json:"baseline"`
	RTPriority int           `json:"rt_priority"`
	CPU        cpuList       `json:"cpu"`
	Mlock      bool          `json:"mlock"`
	Spin       time.Duration `json:"spin_ns"`
	Floor      bool          `json:"floor"`
	Cycles     int           `json:"cycles"`
}

func (c *benchConfig) register(fs *flag.FlagSet) {
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "how long to measure (after the warm-up)")
	fs.DurationVar(&c.Warmup, "warmup", time.Second, "streaming before the measurement starts, left out of the figures")
	fs.IntVar(&c.RateHz, "rate", 200, "sample rate in Hz (1..10000)")
	fs.IntVar(&c.Batch, "batch", 1, fmt.Sprintf("samples per datagram (1..%d)", telemetry.MaxBatch))
	fs.IntVar(&c.Load, "load", 0, "CPU-bound busy processes to run during the measurement")
	fs.IntVar(&c.FloodPPS, "flood", 0, "control packets per second sent to the daemon from a disallowed address (127.0.0.2), every other second of the measurement")
	fs.IntVar(&c.Commands, "commands", 0, "status commands per second sent to the daemon from an allowed address (127.0.0.1) during the measurement: its command goroutine allocates, so the daemon collects garbage")
	fs.BoolVar(&c.Baseline, "baseline", false, "also measure, at the same time, a plain time.Ticker loop doing the same job")
	c.CPU = cpuList{auto: true}
	fs.Var(&intRange{&c.RTPriority, 0, 99}, "rt-priority", "the daemon's --rt-priority (0: normal priority)")
	c.RTPriority = DefaultRTPriority
	fs.Var(&c.CPU, "cpu", "the daemon's --cpu: auto, none or a list of CPUs")
	fs.BoolVar(&c.Mlock, "mlock", false, "pass --mlock to the daemon")
	fs.DurationVar(&c.Spin, "spin", DefaultSpin, "the daemon's --spin")
	fs.BoolVar(&c.Floor, "floor", false, "also measure, at the same time, the machine's floor: threads scheduled like the daemon's sender threads, half a period off its grid, that only wake up")
	fs.IntVar(&c.Cycles, "cycles", 50, "start/stop cycles for the start → first datagram and stop → end latencies")
}

func (c *benchConfig) check() error {
	switch {
	case c.Duration <= 0 || c.Warmup < 0:
		return fmt.Errorf("%w: --duration must be > 0 and --warmup ≥ 0", errUsage)
	case c.RateHz < 1 || c.RateHz > 10000:
		return fmt.Errorf("%w: --rate %d out of range 1..10000", errUsage, c.RateHz)
	case c.Batch < 1 || c.Batch > telemetry.MaxBatch:
		return fmt.Errorf("%w: --batch %d out of range 1..%d", errUsage, c.Batch, telemetry.MaxBatch)
	case c.Spin < 0:
		return fmt.Errorf("%w: --spin %v is negative", errUsage, c.Spin)
	case c.Load < 0 || c.Load > 64 || c.FloodPPS < 0 || c.FloodPPS > 1_000_000 ||
		c.Commands < 0 || c.Commands > 1_000_000 || c.Cycles < 0:
		return fmt.Errorf("%w: --load 0..64, --flood and --commands 0..1000000, --cycles ≥ 0", errUsage)
	}
	c.Seconds, c.WarmupSecs = c.Duration.Seconds(), c.Warmup.Seconds()
	return nil
}

// args returns the bench command line that repeats c.
func (c *benchConfig) args() []string {
	a := []string{"bench", "--duration", c.Duration.String()}
	if c.Warmup != time.Second {
		a = append(a, "--warmup", c.Warmup.String())
	}
	if c.RateHz != 200 {
		a = append(a, "--rate", strconv.Itoa(c.RateHz))
	}
	if c.Batch != 1 {
		a = append(a, "--batch", strconv.Itoa(c.Batch))
	}
	if c.Load > 0 {
		a = append(a, "--load", strconv.Itoa(c.Load))
	}
	if c.FloodPPS > 0 {
		a = append(a, "--flood", strconv.Itoa(c.FloodPPS))
	}
	if c.Commands > 0 {
		a = append(a, "--commands", strconv.Itoa(c.Commands))
	}
	if c.Baseline {
		a = append(a, "--baseline")
	}
	if c.RTPriority != DefaultRTPriority {
		a = append(a, "--rt-priority", strconv.Itoa(c.RTPriority))
	}
	if !c.CPU.auto {
		a = append(a, "--cpu", c.CPU.String())
	}
	if c.Mlock {
		a = append(a, "--mlock")
	}
	if c.Spin != DefaultSpin {
		a = append(a, "--spin", c.Spin.String())
	}
	if c.Floor {
		a = append(a, "--floor")
	}
	if c.Cycles != 50 {
		a = append(a, "--cycles", strconv.Itoa(c.Cycles))
	}
	return a
}

// streamResult is one stream's figures.
type streamResult struct {
	Name  string `json:"name"`
	Sched string `json:"sched"`
	streamCount
	timing
	CPUPercent float64 `json:"cpu_percent"`
	RSSKiB     int64   `json:"rss_kib"`
	PeakRSSKiB int64   `json:"peak_rss_kib"`
	// GCCycles is how many garbage collections the process ran during the
	// measurement (GODEBUG=gctrace=1).
	GCCycles int `json:"gc_cycles"`
	// SenderBlocks is how often the daemon's real-time sender threads
	// blocked during the measurement, for Ticks ticks: once per tick and
	// thread means they only ever slept to their deadlines and never
	// waited for the rest of the process. Absent without RT priority (the
	// threads are not found).
	SenderBlocks *senderBlocks `json:"sender_blocks,omitempty"`
}

type senderBlocks struct {
	Threads  int    `json:"threads"`
	Ticks    uint64 `json:"ticks"`
	Switches uint64 `json:"voluntary_switches"`
}

// benchResult is what one bench run measured; --json prints it.
type benchResult struct {
	Machine    machineInfo `json:"machine"`
	LoadBefore float64     `json:"loadavg_before"`
	LoadAfter  float64     `json:"loadavg_after"`
	// OtherCPU is the CPU used during the measurement by processes other
	// than the bench's (itself, the daemon, the baseline, the load), in
	// percent of one CPU: how much else was running.
	OtherCPU float64 `json:"other_cpu_percent"`
	// StealMs is the time a hypervisor ran something else while this
	// virtual machine's CPUs had work, summed over them: it delays ticks.
	StealMs      float64           `json:"steal_ms"`
	Config       benchConfig       `json:"config"`
	Command      string            `json:"command"`
	Product      streamResult      `json:"product"`
	Baseline     *streamResult     `json:"baseline,omitempty"`
	DaemonStatus map[string]string `json:"daemon_status"`
	FloodSent    uint64            `json:"flood_sent"`
	// FloodOn and FloodOff split the daemon's timing between the seconds
	// with and without the hostile flood, which alternate.
	FloodOn      *floodPhase `json:"flood_on,omitempty"`
	FloodOff     *floodPhase `json:"flood_off,omitempty"`
	CommandsSent uint64      `json:"commands_sent"`
	StartToFirst Summary     `json:"start_to_first"`
	StopToEnd    Summary     `json:"stop_to_end"`
	// CyclesResent counts the start and stop commands of the cycles that
	// had to be sent again.
	CyclesResent int `json:"cycles_resent"`
	// Floor is the machine's own wake-up timing in the same run (--floor).
	Floor *floorResult `json:"floor,omitempty"`
}

// runBench is the bench command.
func runBench(name string, args []string, stdout, stderr io.Writer) error {
	var c benchConfig
	var asJSON bool
	var markdown string
	fs := newFlags(name, stderr)
	c.register(fs)
	fs.BoolVar(&asJSON, "json", false, "print one JSON object instead of the table")
	fs.StringVar(&markdown, "markdown", "", "run the standard comparison runs (each --duration long) and write them as Markdown to FILE")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if markdown != "" {
		return benchSuite(ctx, c, markdown, stdout, stderr)
	}
	if !asJSON {
		fmt.Fprintf(stderr, "imustream bench: measuring %s (+%s warm-up)…\n", c.Duration, c.Warmup)
	}
	r, err := bench(ctx, c)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	printBench(stdout, r)
	return nil
}

// bench runs the daemon (and the baseline) as child processes, streams
// from them on loopback and measures.
func bench(ctx context.Context, c benchConfig) (*benchResult, error) {
	r := &benchResult{Machine: readMachine(), LoadBefore: loadAvg(), Config: c,
		Command: "imustream " + strings.Join(c.args(), " ")}
	period := int64(time.Second) / int64(c.RateHz)
	gctrace := "GODEBUG=gctrace=1"

	dargs := []string{"run", "--sim", "--listen", "127.0.0.1:0", "--allow", "127.0.0.1/32",
		"--rate", strconv.Itoa(c.RateHz), "--batch", strconv.Itoa(c.Batch),
		"--rt-priority", strconv.Itoa(c.RTPriority), "--cpu", c.CPU.String(), "--spin", c.Spin.String()}
	if c.Mlock {
		dargs = append(dargs, "--mlock")
	}
	daemon, err := startChild("daemon", dargs, gctrace)
	if err != nil {
		return nil, err
	}
	defer daemon.stop(syscall.SIGTERM, 5*time.Second)
	var ctl netip.AddrPort
	select {
	case a := <-daemon.ready:
		if ctl, err = netip.ParseAddrPort(a); err != nil {
			return nil, fmt.Errorf("bench: daemon's address %q: %w", a, err)
		}
	case <-daemon.done:
		return nil, fmt.Errorf("bench: daemon exited (%v):\n%s", daemon.err, daemon.stderrTail())
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("bench: daemon not ready after 10 s:\n%s", daemon.stderrTail())
	}

	var loads []*child
	defer func() {
		for _, l := range loads {
			l.stop(syscall.SIGKILL, time.Second)
		}
	}()
	for i := range c.Load {
		l, err := startChild(fmt.Sprintf("load %d", i), []string{"bench-spin"})
		if err != nil {
			return nil, err
		}
		loads = append(loads, l)
	}

	lo := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), 0)
	prx, err := listenTS(lo)
	if err != nil {
		return nil, err
	}
	defer prx.Close()
	frames := int((c.Warmup+c.Duration).Seconds()*float64(c.RateHz))/c.Batch + 1024
	prod := &streamRec{arr: make([]arrival, 0, frames)}

	var (
		base    *streamRec
		basep   *child
		baseEnd = make(chan struct{})
	)
	if c.Baseline {
		brx, err := listenTS(lo)
		if err != nil {
			return nil, err
		}
		defer brx.Close()
		base = &streamRec{arr: make([]arrival, 0, frames)}
		basep, err = startChild("baseline", []string{"bench-baseline", "--to", brx.addr().String(),
			"--rate", strconv.Itoa(c.RateHz), "--batch", strconv.Itoa(c.Batch)}, gctrace)
		if err != nil {
			return nil, err
		}
		defer basep.stop(syscall.SIGKILL, time.Second)
		go func() {
			defer close(baseEnd)
			for {
				b, _, ts, err := brx.read(time.Time{})
				if err != nil {
					return
				}
				if typ, ok := base.add(b, ts); ok && typ == telemetry.TypeEnd {
					return
				}
			}
		}()
	}

	var floodSent, commandsSent atomic.Uint64
	// The hostile flood alternates a second on, a second off, so that its
	// effect is measured against quiet seconds of the same run: two runs
	// on a shared machine differ by more than a flood does.
	phase0 := time.Now()
	floodOn := func(t time.Time) bool { return t.Sub(phase0)/time.Second%2 == 0 }
	floodCtx, stopFlood := context.WithCancel(ctx)
	var floodWG sync.WaitGroup
	defer func() { stopFlood(); floodWG.Wait() }()
	for _, f := range []struct {
		pps  int
		from net.IP
		msg  string
		sent *atomic.Uint64
		on   func(time.Time) bool
	}{
		// Hostile: a start the allow list must drop without a reply.
		{c.FloodPPS, net.IPv4(127, 0, 0, 2), "start lease=24h\n", &floodSent, floodOn},
		// Allowed: answered, and the garbage of each reply collected.
		{c.Commands, net.IPv4(127, 0, 0, 1), "status\n", &commandsSent, nil},
	} {
		if f.pps == 0 {
			continue
		}
		fc, err := net.DialUDP("udp", &net.UDPAddr{IP: f.from}, net.UDPAddrFromAddrPort(ctl))
		if err != nil {
			return nil, fmt.Errorf("bench: flood socket: %w", err)
		}
		defer fc.Close()
		floodWG.Go(func() { flood(floodCtx, fc, f.pps, []byte(f.msg), f.sent, f.on) })
	}
	if c.Load > 0 {
		time.Sleep(300 * time.Millisecond) // let the load processes spin up
	}

	// The product stream: subscribe this socket with a lease, renewed
	// every second as the record command does.
	send := func(cmd control.Command) error {
		_, err := prx.WriteToUDPAddrPort([]byte(cmd.String()+"\n"), ctl)
		if err != nil {
			return fmt.Errorf("bench: send %s: %w", cmd.Verb, err)
		}
		return nil
	}
	startCmd := control.Command{Verb: control.VerbStart, Lease: 5 * time.Second}
	t0 := time.Now()
	if err := send(startCmd); err != nil {
		return nil, err
	}
	winStart, winEnd := t0.Add(c.Warmup), t0.Add(c.Warmup+c.Duration)
	renew := t0.Add(time.Second)
	var cpu0d, cpu0b cpuSample
	var win0 cpuWindow
	var sw0 uint64
	var floor *child
	tids := rtThreads(daemon.pid())
	ours := []int{os.Getpid(), daemon.pid()}
	if basep != nil {
		ours = append(ours, basep.pid())
	}
	for _, l := range loads {
		ours = append(ours, l.pid())
	}
	sampled := false
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		now := time.Now()
		if !sampled && !now.Before(winStart) {
			if win0, err = sampleWindow(ours); err != nil {
				return nil, err
			}
			if len(tids) > 0 {
				if sw0, err = voluntarySwitches(daemon.pid(), tids); err != nil {
					return nil, err
				}
			}
			if cpu0d, err = readCPU(daemon.pid()); err != nil {
				return nil, err
			}
			if c.Floor {
				if floor, err = startFloor(c, prod, period); err != nil {
					return nil, err
				}
				defer floor.stop(syscall.SIGKILL, time.Second)
			}
			if basep != nil {
				if cpu0b, err = readCPU(basep.pid()); err != nil {
					return nil, err
				}
			}
			sampled = true
		}
		if !now.Before(winEnd) {
			break
		}
		if !now.Before(renew) {
			if err := send(startCmd); err != nil {
				return nil, err
			}
			renew = renew.Add(time.Second)
		}
		dl := winEnd
		if renew.Before(dl) {
			dl = renew
		}
		if !sampled && winStart.Before(dl) {
			dl = winStart
		}
		b, _, ts, err := prx.read(dl)
		switch {
		case isTimeout(err):
			continue
		case err != nil:
			return nil, err
		}
		prod.add(b, ts)
		select {
		case <-daemon.done:
			return nil, fmt.Errorf("bench: daemon exited (%v):\n%s", daemon.err, daemon.stderrTail())
		default:
		}
	}
	cpu1d, err := readCPU(daemon.pid())
	if err != nil {
		return nil, err
	}
	win1, err := sampleWindow(ours)
	if err != nil {
		return nil, err
	}
	r.OtherCPU, r.StealMs = otherPercent(win0, win1), stealMs(win0, win1)
	if floor != nil {
		if r.Floor, err = floorOutcome(floor); err != nil {
			return nil, err
		}
	}
	var blocks *senderBlocks
	if len(tids) > 0 {
		sw1, err := voluntarySwitches(daemon.pid(), tids)
		if err != nil {
			return nil, err
		}
		blocks = &senderBlocks{Threads: len(tids), Switches: sw1 - sw0}
	}
	r.Product = streamResult{Name: "imustream", Sched: readSched(daemon.pid()), CPUPercent: cpuPercent(cpu0d, cpu1d)}
	r.Product.RSSKiB, r.Product.PeakRSSKiB, _ = readMem(daemon.pid())
	if basep != nil {
		cpu1b, err := readCPU(basep.pid())
		if err != nil {
			return nil, err
		}
		r.Baseline = &streamResult{Name: "time.Ticker", Sched: readSched(basep.pid()), CPUPercent: cpuPercent(cpu0b, cpu1b)}
		r.Baseline.RSSKiB, r.Baseline.PeakRSSKiB, _ = readMem(basep.pid())
		_ = basep.cmd.Process.Signal(syscall.SIGTERM)
	}

	// End the stream; the end-of-stream datagram tells what was sent. The
	// stop is repeated (same id) until it comes, in case a flood crowded
	// it out of the daemon's socket buffer.
	stop := control.Command{ID: "end", Verb: control.VerbStop}
	for giveUp, next := time.Now().Add(5*time.Second), time.Now(); !prod.cnt.c.EndSeen && time.Now().Before(giveUp); {
		if !time.Now().Before(next) {
			if err := send(stop); err != nil {
				return nil, err
			}
			next = next.Add(200 * time.Millisecond)
		}
		b, _, ts, err := prx.read(next)
		if isTimeout(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		prod.add(b, ts)
	}
	if basep != nil {
		select {
		case <-baseEnd:
		case <-time.After(2 * time.Second):
		}
	}
	st, err := daemonStatus(ctl)
	if err != nil {
		return nil, err
	}
	r.DaemonStatus = st
	r.FloodSent, r.CommandsSent = floodSent.Load(), commandsSent.Load()

	first, last, resent, err := startStopCycles(ctx, prx, ctl, c.Cycles, period)
	if err != nil {
		return nil, err
	}
	r.StartToFirst, r.StopToEnd, r.CyclesResent = summarize(first), summarize(last), resent
	stopFlood()
	floodWG.Wait()

	from, to := winStart.UnixNano(), winEnd.UnixNano()
	prod.finish(&r.Product, from, to, period)
	if blocks != nil {
		blocks.Ticks = prod.samplesBetween(from, to)
		r.Product.SenderBlocks = blocks
	}
	// Without a flood the same split says how much two halves of one run
	// differ anyway.
	r.FloodOn, r.FloodOff = prod.phases(from, to, period, floodOn)
	r.Product.GCCycles = daemon.gcBetween(from, to)
	if r.Baseline != nil {
		<-baseEnd // the reader goroutine is done with base
		base.finish(r.Baseline, from, to, period)
		r.Baseline.GCCycles = basep.gcBetween(from, to)
	}
	r.LoadAfter = loadAvg()
	if r.Product.Datagrams == 0 {
		return r, fmt.Errorf("bench: no datagram from the daemon:\n%s", daemon.stderrTail())
	}
	return r, nil
}

// streamRec collects one stream's arrivals.
type streamRec struct {
	arr []arrival
	cnt counter
	dg  telemetry.Datagram
}

// add records datagram b received at rxNs and reports its type; ok is
// false for anything that is not a telemetry datagram (command replies).
func (s *streamRec) add(b []byte, rxNs int64) (telemetry.Type, bool) {
	if !telemetry.Is(b) || telemetry.Parse(b, &s.dg) != nil {
		return 0, false
	}
	switch s.dg.Type {
	case telemetry.TypeSamples:
		s.cnt.samples(&s.dg)
		last := &s.dg.Samples[len(s.dg.Samples)-1]
		a := arrival{rxNs: rxNs, seq: s.dg.Seq, count: s.dg.Count,
			monoNs: last.MonoNs, wallNs: last.WallNs, lateNs: last.LateNs}
		for i := range s.dg.Samples {
			a.flags |= s.dg.Samples[i].Status
		}
		s.arr = append(s.arr, a)
	case telemetry.TypeEnd:
		s.cnt.end(&s.dg)
	}
	return s.dg.Type, true
}

// samplesBetween counts the samples of the datagrams that arrived in
// [from, to): the ticks of that time, less any lost.
func (s *streamRec) samplesBetween(from, to int64) uint64 {
	n := uint64(0)
	for _, a := range s.arr {
		if a.rxNs >= from && a.rxNs < to {
			n += uint64(a.count)
		}
	}
	return n
}

// finish fills r with the counts and with the timing of the arrivals in
// [from, to).
func (s *streamRec) finish(r *streamResult, from, to, period int64) {
	r.streamCount = s.cnt.result()
	i, j := 0, len(s.arr)
	for i < j && s.arr[i].rxNs < from {
		i++
	}
	for j > i && s.arr[j-1].rxNs >= to {
		j--
	}
	r.timing = analyze(s.arr[i:j], period)
}

// floodPhase is the daemon's timing over the seconds of one flood phase.
type floodPhase struct {
	Interval Summary `json:"interval_dev"`
	Reported Summary `json:"reported_late"`
	// Skipped counts samples flagged as following skipped ticks.
	Skipped uint64 `json:"flagged_skipped"`
}

// phases splits the arrivals in [from, to) by whether the flood was on
// when they arrived; pairs across a phase change are left out of the
// intervals, as they are not consecutive in either half.
func (s *streamRec) phases(from, to, period int64, on func(time.Time) bool) (onP, offP *floodPhase) {
	var halves [2][]arrival
	for _, a := range s.arr {
		if a.rxNs < from || a.rxNs >= to {
			continue
		}
		i := 0
		if on(time.Unix(0, a.rxNs)) {
			i = 1
		}
		halves[i] = append(halves[i], a)
	}
	ph := func(as []arrival) *floodPhase {
		t := analyze(as, period)
		p := &floodPhase{Interval: t.Interval, Reported: t.Reported}
		for _, a := range as {
			if a.flags&sensor.StatusSkipped != 0 {
				p.Skipped++
			}
		}
		return p
	}
	return ph(halves[1]), ph(halves[0])
}

// flood sends msg at pps while on (nil: always) until ctx ends, in bursts
// every millisecond so the rate holds whatever the sleep resolution.
func flood(ctx context.Context, c *net.UDPConn, pps int, msg []byte, sent *atomic.Uint64, on func(time.Time) bool) {
	last := time.Now()
	var onTime time.Duration
	n := uint64(0)
	for ctx.Err() == nil {
		now := time.Now()
		if on == nil || on(now) {
			onTime += now.Sub(last)
		}
		last = now
		due := uint64(onTime.Seconds() * float64(pps))
		for ; n < due; n++ {
			_, _ = c.Write(msg)
		}
		sent.Store(n)
		time.Sleep(time.Millisecond)
	}
}

// daemonStatus returns the daemon's status fields.
func daemonStatus(ctl netip.AddrPort) (map[string]string, error) {
	cl, err := control.Dial(ctl.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	rep, err := cl.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("bench: status: %w", err)
	}
	m := make(map[string]string, len(rep.Fields))
	for _, f := range rep.Fields {
		m[f.Key] = f.Value
	}
	return m, nil
}

// startStopCycles measures, n times, a start command to the kernel
// arrival of the new stream's first datagram, and a stop command to the
// arrival of its end-of-stream datagram. A command is sent again, with
// the same request id, every resend until its datagram comes (a flood can
// fill the daemon's socket buffer): the time counts from the first send,
// and resent counts the repeats.
func startStopCycles(ctx context.Context, rx *tsConn, ctl netip.AddrPort, n int, period int64) (first, last []int64, resent int, err error) {
	const resend, giveUp = 200 * time.Millisecond, 5 * time.Second
	var dg telemetry.Datagram
	var session uint32
	// do sends c until a datagram of type typ (of a new session for
	// samples) arrives, and returns the time from the first send.
	do := func(c control.Command, typ telemetry.Type) (int64, error) {
		msg := []byte(c.String() + "\n")
		t0 := time.Now()
		end := t0.Add(giveUp)
		for next := t0; ; {
			if now := time.Now(); !now.Before(next) {
				if now.After(end) {
					return 0, fmt.Errorf("bench: start/stop cycle: no %v datagram %s after %s", typ, giveUp, c.Verb)
				}
				if next != t0 {
					resent++
				}
				if _, err := rx.WriteToUDPAddrPort(msg, ctl); err != nil {
					return 0, fmt.Errorf("bench: %w", err)
				}
				next = next.Add(resend)
			}
			b, _, ts, err := rx.read(next)
			if isTimeout(err) {
				continue
			}
			if err != nil {
				return 0, err
			}
			if !telemetry.Is(b) || telemetry.Parse(b, &dg) != nil || dg.Type != typ ||
				typ == telemetry.TypeSamples && dg.Session == session {
				continue
			}
			session = dg.Session
			return ts - t0.UnixNano(), nil
		}
	}
	for i := range n {
		if ctx.Err() != nil {
			return nil, nil, 0, ctx.Err()
		}
		// The sender needs a tick to drop the last subscriber; a random
		// pause also spreads the starts over the tick phase.
		time.Sleep(time.Duration(2*period + rand.Int64N(2*period)))
		id := "c" + strconv.Itoa(i)
		d, err := do(control.Command{ID: id + "a", Verb: control.VerbStart, Lease: 5 * time.Second}, telemetry.TypeSamples)
		if err != nil {
			return nil, nil, 0, err
		}
		first = append(first, d)
		if d, err = do(control.Command{ID: id + "o", Verb: control.VerbStop}, telemetry.TypeEnd); err != nil {
			return nil, nil, 0, err
		}
		last = append(last, d)
	}
	return first, last, resent, nil
}

// printBench writes a result as a table.
func printBench(w io.Writer, r *benchResult) {
	c := &r.Config
	flood := "off"
	if c.FloodPPS > 0 {
		flood = fmt.Sprintf("%d pps from 127.0.0.2 (%d sent)", c.FloodPPS, r.FloodSent)
	}
	if c.Commands > 0 {
		flood += fmt.Sprintf(", %d status commands/s from 127.0.0.1 (%d sent)", c.Commands, r.CommandsSent)
	}
	fmt.Fprintf(w, "%s\n", r.Command)
	fmt.Fprintf(w, "machine: %s; load average %.2f before, %.2f after; other processes used %.0f %% CPU; steal %.0f ms\n",
		r.Machine, r.LoadBefore, r.LoadAfter, r.OtherCPU, r.StealMs)
	fmt.Fprintf(w, "%d Hz, batch %d, %s measured after %s warm-up, load %d, flood %s\n\n",
		c.RateHz, c.Batch, c.Duration, c.Warmup, c.Load, flood)
	streams := []*streamResult{&r.Product}
	if r.Baseline != nil {
		streams = append(streams, r.Baseline)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(label string, f func(s *streamResult) string) {
		fmt.Fprintf(tw, "%s\t", label)
		for _, s := range streams {
			fmt.Fprintf(tw, "%s\t", f(s))
		}
		fmt.Fprintln(tw)
	}
	sum := func(label string, g func(s *streamResult) Summary) {
		row(label, func(s *streamResult) string {
			x := g(s)
			return fmt.Sprintf("%.1f / %.1f / %.1f / %.1f", x.P50, x.P99, x.P999, x.Max)
		})
	}
	row("µs: p50 / p99 / p99.9 / max", func(s *streamResult) string { return s.Name })
	row("scheduling", func(s *streamResult) string { return s.Sched })
	row("datagrams / samples", func(s *streamResult) string { return fmt.Sprintf("%d / %d", s.Datagrams, s.Samples) })
	row("lost", func(s *streamResult) string { return fmt.Sprintf("%d (end seen: %v)", s.Lost, s.EndSeen) })
	sum("|interval − period|", func(s *streamResult) Summary { return s.Interval })
	sum("grid lateness", func(s *streamResult) Summary { return s.Lateness })
	sum("reported late_ns", func(s *streamResult) Summary { return s.Reported })
	sum("one-way latency", func(s *streamResult) Summary { return s.Latency })
	row("flagged late / skipped", func(s *streamResult) string { return fmt.Sprintf("%d / %d", s.FlaggedLate, s.FlaggedSkipped) })
	row("CPU % / RSS MiB", func(s *streamResult) string {
		return fmt.Sprintf("%.1f / %.1f", s.CPUPercent, float64(s.RSSKiB)/1024)
	})
	row("GC cycles", func(s *streamResult) string { return strconv.Itoa(s.GCCycles) })
	row("sender threads blocked / sleeps", func(s *streamResult) string {
		if s.SenderBlocks == nil {
			return "-"
		}
		return fmt.Sprintf("%d / %d", s.SenderBlocks.Switches, s.SenderBlocks.Ticks*uint64(s.SenderBlocks.Threads))
	})
	tw.Flush()
	if f := r.Floor; f != nil {
		fmt.Fprintf(w, "\nmachine floor, same minute (%d threads like the sender's, only waking): |interval − period| µs p50/p99/p99.9/max %.1f / %.1f / %.1f / %.1f; worst wake-up per thread %v µs\n",
			f.Threads, f.Interval.P50, f.Interval.P99, f.Interval.P999, f.Interval.Max, f.ThreadLateMax)
	}
	st := r.DaemonStatus
	fmt.Fprintf(w, "\ndaemon: ticks %s, late %s, skipped %s, max late %s µs, commands dropped (not allowed) %s\n",
		st["ticks"], st["late"], st["skipped"], st["max_late_us"], st["drop_not_allowed"])
	if on, off := r.FloodOn, r.FloodOff; on != nil && off != nil {
		fmt.Fprintf(w, "flood seconds vs quiet seconds: |interval − period| p99 %.1f vs %.1f µs, max %.1f vs %.1f µs; skipped %d vs %d\n",
			on.Interval.P99, off.Interval.P99, on.Interval.Max, off.Interval.Max, on.Skipped, off.Skipped)
	}
	if r.StartToFirst.N > 0 {
		fmt.Fprintf(w, "start → first datagram µs p50/p99/max: %.1f / %.1f / %.1f (%d cycles)\n",
			r.StartToFirst.P50, r.StartToFirst.P99, r.StartToFirst.Max, r.StartToFirst.N)
		fmt.Fprintf(w, "stop → end of stream µs p50/p99/max:   %.1f / %.1f / %.1f (%d commands sent again)\n",
			r.StopToEnd.P50, r.StopToEnd.P99, r.StopToEnd.Max, r.CyclesResent)
	}
}

// startFloor starts the floor probe for the rest of the measurement, its
// grid half a period off the daemon's (taken from the latest datagram).
func startFloor(c benchConfig, prod *streamRec, period int64) (*child, error) {
	if len(prod.arr) == 0 {
		return nil, errors.New("bench: no datagram before the measurement: no grid for the floor")
	}
	grid := prod.arr[len(prod.arr)-1].deadline() + period/2
	first := rt.MonoClock{}.Now() + int64(50*time.Millisecond)
	first = grid + (first-grid+period-1)/period*period
	ticks := int((c.Duration - 100*time.Millisecond).Nanoseconds() / period)
	return startChild("floor", []string{"bench-floor", "--rate", strconv.Itoa(c.RateHz),
		"--ticks", strconv.Itoa(ticks), "--start", strconv.FormatInt(first, 10),
		"--rt-priority", strconv.Itoa(c.RTPriority), "--cpu", c.CPU.String(), "--spin", c.Spin.String()})
}

// floorOutcome waits for the floor probe and reads its result.
func floorOutcome(f *child) (*floorResult, error) {
	select {
	case <-f.done:
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("bench: floor probe still running:\n%s", f.stderrTail())
	}
	if f.err != nil {
		return nil, fmt.Errorf("bench: floor probe: %w:\n%s", f.err, f.stderrTail())
	}
	var r floorResult
	if err := json.Unmarshal(f.stdout.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("bench: floor probe's output: %w", err)
	}
	return &r, nil
}
