package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"
)

// suiteRun is one run of the comparison that --markdown writes.
type suiteRun struct {
	key, title string
	set        func(c *benchConfig)
	r          *benchResult
}

// suite lists the comparison runs. Every run has the time.Ticker baseline
// next to it; the flood run follows the loaded one it is compared with.
func suite() []*suiteRun {
	return []*suiteRun{
		{key: "idle", title: "200 Hz, idle, RT priority", set: func(c *benchConfig) {}},
		{key: "idle-nort", title: "200 Hz, idle, no RT priority", set: func(c *benchConfig) { c.RTPriority = 0 }},
		{key: "load", title: "200 Hz, load 2, RT priority", set: func(c *benchConfig) { c.Load = 2 }},
		{key: "load-1cpu", title: "200 Hz, load 2, RT priority, one sender thread", set: func(c *benchConfig) { c.Load, c.CPU = 2, cpuList{list: []int{1}} }},
		{key: "flood", title: "200 Hz, load 2, RT priority, flood 10000 pps", set: func(c *benchConfig) { c.Load, c.FloodPPS = 2, 10000 }},
		{key: "gc", title: "200 Hz, load 2, RT priority, 2000 status commands/s", set: func(c *benchConfig) { c.Load, c.Commands = 2, 2000 }},
		{key: "load-nort", title: "200 Hz, load 2, no RT priority", set: func(c *benchConfig) { c.Load, c.RTPriority = 2, 0 }},
		{key: "1khz", title: "1 kHz, load 2, RT priority", set: func(c *benchConfig) { c.Load, c.RateHz = 2, 1000 }},
		{key: "8khz", title: "8 kHz in batches of 8, load 2, RT priority", set: func(c *benchConfig) { c.Load, c.RateHz, c.Batch = 2, 8000, 8 }},
	}
}

// benchSuite runs the suite with base's duration and writes the Markdown
// report to path.
func benchSuite(ctx context.Context, base benchConfig, path string, stdout, stderr io.Writer) error {
	runs := suite()
	for i, s := range runs {
		c := base
		c.Baseline = true
		c.Load, c.FloodPPS, c.Commands, c.RateHz, c.Batch, c.RTPriority, c.CPU = 0, 0, 0, 200, 1, DefaultRTPriority, cpuList{auto: true}
		s.set(&c)
		// At 8 kHz the floor's wake-ups would land 62 µs from the daemon's.
		c.Floor = c.RateHz <= 1000
		if err := c.check(); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "[%d/%d] %s: imustream %s\n", i+1, len(runs), s.title, strings.Join(c.args(), " "))
		r, err := bench(ctx, c)
		if err != nil {
			return fmt.Errorf("%s: %w", s.title, err)
		}
		s.r = r
		printBench(stderr, r)
		fmt.Fprintln(stderr)
	}
	var b bytes.Buffer
	cmd := "imustream bench --markdown " + path + " --duration " + base.Duration.String()
	writeBenchDoc(&b, cmd, runs, time.Now())
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	for _, v := range acceptance(runs) {
		fmt.Fprintf(stdout, "%-9s %s: %s\n", v.mark(), v.criterion, v.figure)
	}
	fmt.Fprintf(stdout, "wrote %s\n", path)
	return nil
}

// verdict is one acceptance criterion and what the suite measured for it.
type verdict struct {
	criterion, figure string
	met               bool
}

func (v verdict) mark() string {
	if v.met {
		return "met"
	}
	return "NOT MET"
}

func find(runs []*suiteRun, key string) *benchResult {
	for _, s := range runs {
		if s.key == key {
			return s.r
		}
	}
	return nil
}

// acceptance checks the project's timing goals against the suite's runs.
func acceptance(runs []*suiteRun) []verdict {
	var out []verdict
	load, idle, fl := find(runs, "load"), find(runs, "idle"), find(runs, "flood")
	if load != nil {
		p := &load.Product
		rt := strings.HasPrefix(p.Sched, "SCHED_FIFO")
		floor := ""
		if f := load.Floor; f != nil {
			floor = fmt.Sprintf("; the machine's floor in the same minute: p99 %.1f µs, max %.1f µs", f.Interval.P99, f.Interval.Max)
		}
		out = append(out, verdict{
			"200 Hz, load 2, RT priority granted: p99 ≤ 50 µs, max ≤ 250 µs, 0 loss, over ≥ 60 s",
			fmt.Sprintf("p99 %.1f µs, max %.1f µs, %d lost, %s, %s%s", p.Interval.P99, p.Interval.Max, p.Lost, load.Config.Duration, p.Sched, floor),
			rt && p.Interval.P99 <= 50 && p.Interval.Max <= 250 && p.Lost == 0 && load.Config.Duration >= time.Minute,
		})
		if b := load.Baseline; b != nil {
			ratio := b.Interval.P99 / math.Max(p.Interval.P99, 0.1)
			out = append(out, verdict{
				"same run: p99 at least 30× smaller than the time.Ticker baseline's",
				fmt.Sprintf("%.1f µs vs %.1f µs: %.0f×", p.Interval.P99, b.Interval.P99, ratio),
				ratio >= 30,
			})
		}
	}
	if fl != nil && fl.FloodOn != nil && fl.FloodOff != nil {
		on, off := fl.FloodOn, fl.FloodOff
		a, b := off.Interval.P99, on.Interval.P99
		change := (b - a) / math.Max(a, 0.1)
		noise := ""
		if load != nil && load.FloodOn != nil && load.FloodOff != nil {
			x, y := load.FloodOff.Interval.P99, load.FloodOn.Interval.P99
			noise = fmt.Sprintf("; the same split of the loaded run without a flood: %.1f µs → %.1f µs (%+.0f %%)", x, y, (y-x)/math.Max(x, 0.1)*100)
		}
		out = append(out, verdict{
			"flood 10000 pps: p99 changes by ≤ 10 % and no tick is missed",
			fmt.Sprintf("p99 %.1f µs in the quiet seconds → %.1f µs in the flood seconds (%+.0f %%); %d skips in the flood seconds, %d lost; %s commands dropped%s",
				a, b, change*100, on.Skipped, fl.Product.Lost, fl.DaemonStatus["drop_not_allowed"], noise),
			math.Abs(change) <= 0.10 && on.Skipped == 0 && fl.Product.Lost == 0,
		})
	}
	if idle != nil {
		s := idle.StartToFirst
		out = append(out, verdict{
			"start → first datagram p99 ≤ 1 ms on loopback (idle)",
			fmt.Sprintf("p50 %.0f µs, p99 %.0f µs, max %.0f µs over %d cycles", s.P50, s.P99, s.Max, s.N),
			s.N > 0 && s.P99 <= 1000,
		})
	}
	for _, k := range []struct{ key, what string }{{"1khz", "1 kHz single-sample"}, {"8khz", "8 kHz with --batch 8"}} {
		if r := find(runs, k.key); r != nil {
			p := &r.Product
			out = append(out, verdict{k.what + ": 0 loss",
				fmt.Sprintf("%d samples, %d lost, end of stream seen: %v", p.Samples, p.Lost, p.EndSeen),
				p.Lost == 0 && p.EndSeen && p.Samples > 0})
		}
	}
	return out
}

// writeBenchDoc writes docs/performance.md.
func writeBenchDoc(w io.Writer, cmd string, runs []*suiteRun, when time.Time) {
	var m machineInfo
	var dur time.Duration
	for _, s := range runs {
		if s.r != nil {
			m, dur = s.r.Machine, s.r.Config.Duration
		}
	}
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("# Performance\n\n")
	p("<!-- Generated by `%s` (`make bench BENCH_DURATION=%s`); change cmd/imustream/benchdoc_linux.go, not this file. -->\n\n", cmd, dur)
	p("The stream exists to be on time: one datagram every 5 ms, each one when it is due. This page\n")
	p("shows how close imustream comes, measured by `imustream bench`, next to a plain `time.Ticker`\n")
	p("loop doing the same job on the same machine at the same moment. How it is measured is\n")
	p("under [Method](#method); every figure below comes from the runs listed under [Runs](#runs).\n\n")

	p("Measured %s on **%s** (kernel build `%s`). Each run measured %s after a 1 s warm-up.\n\n",
		when.UTC().Format("2006-01-02"), m, m.Build, dur)

	p("## Results\n\n")
	p("`|interval − period|` between consecutive datagrams, from kernel receive timestamps, in µs\n")
	p("(the jitter a receiver sees), for imustream and, measured at the same time, the `time.Ticker`\n")
	p("baseline. *Other CPU* is what processes other than the bench's used during the run, in %% of\n")
	p("one CPU (of %d), and *steal* the time the hypervisor took from the virtual CPUs while they had\n", m.CPUs)
	p("work: both disturb the figures, and no program inside the machine can win that time back.\n")
	p("*Floor* is the machine itself in the same minute: threads scheduled like the sender's (same\n")
	p("CPUs, same priority, same spin before the deadline) that only sleep to a grid half a period\n")
	p("off the daemon's and wake up; its |interval − period| is taken between the starts of\n")
	p("consecutive ticks. A stream cannot be steadier than its floor.\n\n")
	p("| Run | imustream scheduling | p50 | p99 | p99.9 | max | lost | floor p99 | floor max | baseline p50 | baseline p99 | baseline max | baseline lost | p99 ratio | other CPU %% | steal ms |\n")
	p("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range runs {
		r := s.r
		if r == nil {
			continue
		}
		a := &r.Product
		p("| %s | %s | %.1f | **%.1f** | %.1f | %.1f | %d |", s.title, a.Sched, a.Interval.P50, a.Interval.P99, a.Interval.P999, a.Interval.Max, a.Lost)
		if f := r.Floor; f != nil {
			p(" %.1f | %.1f |", f.Interval.P99, f.Interval.Max)
		} else {
			p(" — | — |")
		}
		if b := r.Baseline; b != nil {
			p(" %.1f | %.1f | %.1f | %d | %.0f× |", b.Interval.P50, b.Interval.P99, b.Interval.Max, b.Lost, b.Interval.P99/math.Max(a.Interval.P99, 0.1))
		} else {
			p(" | | | | |")
		}
		p(" %.0f | %.0f |\n", r.OtherCPU, r.StealMs)
	}
	p("\nThe same runs, other figures (imustream unless named; µs unless named). *Grid lateness* is\n")
	p("how long after its deadline on the absolute 5 ms grid a datagram arrived; *latency* is sensor\n")
	p("read to kernel receive; *start → first* is a `start` command to the new stream's first datagram,\n")
	p("*stop → end* a `stop` to the end-of-stream datagram, which the sender sends on its next tick;\n")
	p("*sender blocked / sleeps* counts the times the real-time sender threads blocked, against one sleep\n")
	p("per tick and thread; a thread also blocks once each time it yields to the Go scheduler (at\n")
	p("200 Hz once a tick, see *How the schedule is kept*).\n\n")
	p("| Run | grid lateness p99 / max | baseline grid lateness p99 / max | latency p50 / p99 | CPU %% | RSS MiB | baseline CPU %% | GC cycles | skipped ticks | sender blocked / sleeps | start → first p50 / p99 / max | stop → end p50 / max |\n")
	p("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range runs {
		r := s.r
		if r == nil {
			continue
		}
		a := &r.Product
		bl, bc := "", ""
		if b := r.Baseline; b != nil {
			bl = fmt.Sprintf("%.1f / %.1f", b.Lateness.P99, b.Lateness.Max)
			bc = fmt.Sprintf("%.1f", b.CPUPercent)
		}
		resent := ""
		if r.CyclesResent > 0 {
			resent = fmt.Sprintf(" (%d sent again)", r.CyclesResent)
		}
		blocked := "—"
		if sb := a.SenderBlocks; sb != nil {
			blocked = fmt.Sprintf("%d / %d", sb.Switches, sb.Ticks*uint64(sb.Threads))
		}
		p("| %s | %.1f / %.1f | %s | %.1f / %.1f | %.1f | %.1f | %s | %d | %s | %s | %.0f / %.0f / %.0f%s | %.0f / %.0f |\n",
			s.title, a.Lateness.P99, a.Lateness.Max, bl, a.Latency.P50, a.Latency.P99, a.CPUPercent,
			float64(a.RSSKiB)/1024, bc, a.GCCycles, r.DaemonStatus["skipped"], blocked,
			r.StartToFirst.P50, r.StartToFirst.P99, r.StartToFirst.Max, resent, r.StopToEnd.P50, r.StopToEnd.Max)
	}

	p("\n## Acceptance\n\n")
	p("| Goal | Measured | |\n|---|---|---|\n")
	for _, v := range acceptance(runs) {
		p("| %s | %s | %s |\n", v.criterion, v.figure, v.mark())
	}
	p("| without RT priority the figures are reported | the *no RT priority* rows above | — |\n")
	if one, two := find(runs, "load-1cpu"), find(runs, "load"); one != nil && two != nil {
		p("\nUnder the same load, one sender thread reached a max of %.0f µs (%.0f ms of steal during its\n", one.Product.Interval.Max, one.StealMs)
		p("run) and two reached %.0f µs (%.0f ms of steal): a tick due while the hypervisor or the kernel\n", two.Product.Interval.Max, two.StealMs)
		p("holds one CPU is taken by the thread on the other (see [How the schedule is kept](#how-the-schedule-is-kept)).\n")
		p("When both CPUs are held at once, nothing inside the machine runs, and the *floor* column\n")
		p("shows it when the stall reaches one of its wake-ups: its max is then as large as the stream's.\n")
	}

	p("\n## Runs\n\n")
	p("All of them at once: `%s`. One by one (each prints a table; `--json` prints one object):\n\n```sh\n", cmd)
	for _, s := range runs {
		if s.r != nil {
			p("%-60s # %s\n", s.r.Command, s.title)
		}
	}
	p("```\n")
	io.WriteString(w, benchDocMethod)
	writeGCNote(w, runs)
}

// writeGCNote says what the runs show about garbage collection.
func writeGCNote(w io.Writer, runs []*suiteRun) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("\n## Garbage collection\n\n")
	p("Nothing on the per-tick path allocates: sensor read, encode and send are 0 allocs/op\n")
	p("(`BenchmarkTick`, `BenchmarkTickBatch8` and `TestTickAllocs` in `telemetry/`), so the stream\n")
	p("itself never causes a collection. Only commands allocate: about 0.6 KB for a lease renewal and\n")
	p("2 KB for a `status` (`GODEBUG=gctrace=1` over 20 000 of each). A collection is a moment at which\n")
	p("a sender thread coming back from its sleep can wait for the Go runtime's other threads, which\n")
	p("run at normal priority and, under load, wait for the CPU: with Go's defaults (a collection at\n")
	p("4 MB of heap, then at each doubling of the live heap, and at least every 2 minutes) one tick\n")
	p("of a minute with 2000 `status` commands a second and 93 collections came 112 ms late. So the\n")
	p("daemon collects only when its heap reaches 32 MiB (`GOGC=off` with a 32 MiB memory limit,\n")
	p("unless `GOGC` or `GOMEMLIMIT` is set in its environment): once in hours of normal control\n")
	p("traffic, for a few tens of MiB of memory (the *RSS* column of the *status commands* run).\n\n")
	total := 0
	for _, s := range runs {
		if s.r != nil && s.key != "gc" {
			total += s.r.Product.GCCycles
		}
	}
	p("Measured: the runs above without commands collected %d times in all.", total)
	g, l := find(runs, "gc"), find(runs, "load")
	if g != nil && l != nil {
		gi, li := g.Product.Interval, l.Product.Interval
		p(" The *2000 status commands/s* run made the daemon collect %d times in %s; its p99 is\n", g.Product.GCCycles, g.Config.Duration)
		p("%.1f µs and its max %.1f µs, against %.1f µs and %.1f µs with the same load and no commands", gi.P99, gi.Max, li.P99, li.Max)
		if gf, lf := g.Floor, l.Floor; gf != nil && lf != nil {
			p(" (the\nmachine's floor: max %.1f µs and %.1f µs in the same minutes)", gf.Interval.Max, lf.Interval.Max)
		}
		p(".")
	}
	p("\n")
}

const benchDocMethod = `
## Method

- **The daemon** runs as a child process, exactly as deployed but with the simulated sensor:
  ` + "`imustream run --sim --listen 127.0.0.1:0 --allow 127.0.0.1/32 --rate R --batch B --rt-priority P`" + `,
  with ` + "`GODEBUG=gctrace=1`" + ` so that every garbage collection shows on its standard error.
- **The receiver** is a UDP socket on 127.0.0.1 in the bench process, subscribed with
  ` + "`start lease=5s`" + ` and renewed every second, as ` + "`imustream record`" + ` does. It reads each
  datagram with its kernel receive timestamp (` + "`SO_TIMESTAMPNS`" + `, CLOCK_REALTIME). On loopback the
  kernel takes that stamp inside the daemon's send call, so it says when the daemon sent the
  datagram, however late the bench itself gets to read it.
- **|interval − period|** is taken between consecutive datagrams (nominal interval: period ×
  batch); a pair around a lost datagram is left out. This is the jitter figure of the goals.
- **Grid lateness** is each datagram's arrival minus its deadline on the sender's absolute grid
  (deadline = ` + "`t_mono_ns − late_ns`" + ` of its last sample), the grid's offset to the receive clock set
  by the earliest arrival: it is ≥ 0 and holds everything from the timer's expiry to the send.
  The daemon's own ` + "`late_ns`" + ` (its wake-up against the deadline) is in the ` + "`--json`" + ` output as
  ` + "`reported_late`" + `.
- **Latency** is kernel arrival minus the sample's ` + "`t_wall_ns`" + `: the same machine and clock, so it is
  sensor read + encode + send, one way.
- **Loss** counts the sequence numbers from 0 to the end-of-stream datagram's ` + "`seq`" + ` that never
  arrived.
- **CPU %** is user + system time of the process (all its threads) from ` + "`/proc/PID/stat`" + ` over the
  measurement, in percent of one CPU; **RSS** is ` + "`VmRSS`" + ` at its end. **GC cycles** are the
  ` + "`gctrace`" + ` lines printed during the measurement. **Other CPU** is the machine's busy time from
  ` + "`/proc/stat`" + ` less that of the bench's own processes.
- The first second of streaming (` + "`--warmup`" + `) is left out of the timing figures, not out of the loss.
  Percentiles are nearest-rank: p99 of 12 000 intervals is the 11 880th smallest.
- **The baseline** (` + "`imustream bench-baseline`" + `, a hidden command) is a child process that does the
  same job the straightforward way: a goroutine on a ` + "`time.Ticker`" + ` reads the same simulated sensor,
  encodes with the same encoder and writes to a connected UDP socket, into a second
  timestamping socket of the bench. It runs at the same time as the daemon, so both see the
  same machine.
- **Load** (` + "`--load N`" + `) is N processes ` + "`imustream bench-spin`" + `, each spinning on one CPU at normal
  priority, started 300 ms before the stream and killed after.
- **Flood** (` + "`--flood PPS`" + `) sends ` + "`start lease=24h`" + ` commands at that rate from a socket bound to
  127.0.0.2, outside the daemon's allow list: the daemon drops them without a reply (its
  ` + "`drop_not_allowed`" + ` counter, in the ` + "`--json`" + ` output, confirms they arrived). The flood runs every
  other second, and the flood seconds are compared with the quiet seconds of the same run
  (` + "`flood_on`" + `, ` + "`flood_off`" + ` in the ` + "`--json`" + ` output): two runs on a shared virtual machine differ by
  more than a flood does. ` + "`--commands PPS`" + ` sends ` + "`status`" + ` commands from 127.0.0.1, all the time,
  which the daemon answers: that makes it allocate.
- **Floor** (` + "`--floor`" + `, the hidden ` + "`imustream bench-floor`" + `): a child process started when the
  measurement starts, with one thread per sender CPU, pinned, at the same priority and with the
  same spin, sleeping with ` + "`clock_nanosleep`" + ` to a grid half a period off the daemon's (taken
  from its datagrams), and recording when each tick starts (the first thread awake spins to the
  deadline, as in the sender): the machine's own timing, with none of the daemon's work.
- **Start → first datagram** and **stop → end**: after the measurement, ` + "`--cycles`" + ` (50) times, a
  ` + "`start`" + ` from the receiver's socket and the kernel arrival of the new session's first datagram,
  then a ` + "`stop`" + ` and the arrival of the end-of-stream datagram, each against the time taken just
  before the command was first sent (one without its datagram after 200 ms is sent again with
  the same request id, and counted), with a random pause of 2 to 4 periods between cycles. An idle
  sender starts a stream at once (no wait for the grid); the end marker goes out on the next
  tick, so stop → end is up to one period by design. At 8 kHz in batches of 8 the first
  datagram waits for its eighth sample: 1 ms.

## How the schedule is kept

- Each sender thread is a goroutine locked to its own OS thread that sleeps with
  ` + "`clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)`" + ` to absolute deadlines on a fixed grid, so a
  late wake-up never pushes the later ticks back and the kernel's high-resolution timers, not
  the Go runtime's timer wheel (woken through ` + "`epoll_wait`" + ` with millisecond resolution), decide
  when it wakes. The threads' timer slack is set to 1 ns (the default lets the kernel defer a
  normal thread's wake-up by up to 50 µs).
- A sender thread with real-time priority sleeps to 50 µs before the deadline (` + "`--spin`" + `, at
  most a tenth of the period; 0 turns it off) and busy-waits the rest, reading the clock through
  the vDSO. A wake-up
  takes the timer interrupt, the virtual CPU's way out of its idle halt and the switch to the
  thread, together 20 µs at p50 and 47 µs at p99 here under load 2 (the daemon's own
  ` + "`late_ns`" + `, ` + "`reported_late`" + ` in ` + "`--json`" + `, with ` + "`--spin 0`" + `), and different every time. One that
  comes before the deadline starts the tick on it to within a microsecond: with the spin,
  ` + "`reported_late`" + ` is 0 at p99. The cost is the spin itself, at most 50 µs per tick: about
  1 % of one CPU at 200 Hz, 5 % at 1 kHz. On an idle machine a wake-up takes longer here (the
  virtual CPU sleeps in the host: 54 µs at p50 and 98 µs at p99, 20 s idle with ` + "`--spin 0`" + `);
  ` + "`--spin 200us`" + ` covers that too (p99 36.3 µs against 74.5 µs, daemon CPU 7.3 % against 5.1 %).
  A thread at normal priority does not spin: the kernel's fair scheduler would preempt it in
  favour of a busy process for a time slice (under load 2: p99 2480 µs spinning, 55 µs not).
  What is left of the jitter after that is the tick's
  work, mostly the kernel's send path (traced here: 8 µs at p50 and 25 µs at p99 from the
  ` + "`write`" + ` call to the datagram's arrival on loopback, cold caches every tick).
- ` + "`--rt-priority N`" + ` (default 50; 0 turns it off) gives the sender threads ` + "`SCHED_FIFO`" + `, so they
  preempt every normal process the moment their timer fires. When the system refuses, the daemon
  logs one warning saying what to grant (` + "`CAP_SYS_NICE`" + `, e.g. ` + "`AmbientCapabilities=CAP_SYS_NICE`" + `, or
  ` + "`LimitRTPRIO=50`" + ` in the systemd unit) and sends at normal priority: the *no RT priority* rows show
  what that costs. The threads are reset-on-fork and never handed back to the Go scheduler, so
  no other goroutine ever runs at real-time priority.
- Nothing in a tick wakes another thread before the datagram is on its way. The Go scheduler
  preempts a goroutine it has seen running for 10 ms, and a sender thread, whose sleeps are
  system calls, looks to it as if it never stops: left alone it took the thread's P during
  sleeps (every wake-up then woke the runtime's monitor thread on the other CPU) and preempted
  it about 9 times a second just after a wake-up. So each sender thread yields to the scheduler
  itself, after its work and at least every 8 ms, never within 4 ms of a deadline, and only
  one thread at a time (two yielding together were traced waiting 43 ms for the runtime's
  normal-priority threads). It sleeps with a raw system call, which the scheduler does not
  track: Go 1.26's monitor holds a thread's way out of a tracked call while it inspects it,
  and a real-time thread waking then spins on the CPU the monitor needs (traced: 59 ms). The
  subscriber sockets are plain non-blocking descriptors written with ` + "`write(2)`" + `, outside Go's
  network poller: the poller's epoll registration made the kernel wake its thread from inside
  every send. A full send queue drops the datagram (a send error) rather than hold up the tick.
  What is left of the runtime in the loop is the yield itself: at 1 kHz and above a yield
  that waits milliseconds for the scheduler can still cost ticks (see the *skipped* column).
- ` + "`--cpu`" + ` (default ` + "`auto`" + `: the last two CPUs the daemon may use) runs one sender thread pinned to
  each CPU listed. Both sleep to the deadline; whichever is awake first takes the tick (a
  compare-and-swap), the other finds it taken and sleeps to the next one. A second thread 50 µs
  behind the first measured a higher p99 and more stalls (paired 30 s runs under load 2, four
  pairs: p99 47.0 / 32.6 / 47.5 / 44.9 µs against 41.1 / 27.1 / 29.1 / 37.6 µs together, max
  1700 / 1486 / 963 / 213 µs against 496 / 939 / 517 / 829 µs). A wake-up can be held
  up for milliseconds by what no priority preempts: the kernel finishing non-preemptible work
  on that CPU, an interrupt storm (on a Raspberry Pi every interrupt goes to CPU 0, so ` + "`auto`" + `
  avoids it on a 4-core Pi), a hypervisor running another guest on that virtual CPU. Two CPUs
  are seldom held up at the same moment: the *one sender thread* row (` + "`--cpu 1`" + `) shows the
  difference under the same load. ` + "`covered`" + ` in ` + "`status`" + ` counts the wake-ups over a quarter period
  late whose tick the other thread had done. Each sender thread gets a Go scheduler P of its own
  (GOMAXPROCS is raised by one per thread) so that one waking never waits for a free one.
  ` + "`--cpu none`" + ` runs one unpinned thread; ` + "`--mlock`" + ` locks the daemon's pages in RAM as they are
  touched (` + "`MCL_ONFAULT`" + `: it needs ` + "`CAP_IPC_LOCK`" + ` or ` + "`LimitMEMLOCK=infinity`" + `, and keeps the RSS
  at a few MiB).
- A tick that wakes a whole period or more late skips the missed deadlines instead of sending a
  burst: the skipped ticks are counted (` + "`skipped`" + ` in ` + "`status`" + `) and the next sample carries the
  *skipped* flag and its ` + "`late_ns`" + `.
- Real-time priority cannot make the kernel preempt itself: with the ` + "`none`" + ` or ` + "`voluntary`" + `
  preemption model (the machine line above names it) a wake-up waits for the kernel code running
  on that CPU to reach a preemption point (a ` + "`PREEMPT_DYNAMIC`" + ` kernel takes ` + "`preempt=full`" + ` on its
  command line), and in a virtual machine for the host to run the virtual CPU: a tick that falls
  in time the hypervisor took (*steal*) waits for it, whatever its priority. Both show in the
  max of one thread; the second thread on another CPU is what takes them out, unless both
  CPUs are held, or the one doing the tick is held after it took it. Both were traced here
  (kernel tracer, ` + "`imustream bench --duration 30s --load 2 --floor`" + `, a run with a 1567 µs max and a
  floor max of 84 µs): a gap of 1.5 ms in which neither CPU logged any event, ended by one
  timer interrupt waking the sender and floor threads together, and a ` + "`write(2)`" + ` of the datagram
  that took 366 µs with no other event on its CPU. The floor only looks at the machine at its
  own wake-ups, half a period away from the daemon's, so a stall can miss it and hit the
  stream: in such a minute the floor's max is lower than the stream's.
`
