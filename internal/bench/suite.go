package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/internal/rt"
)

// SuiteResult is what Suite measured: the comparison runs in the suite's
// order, each with its result. imustream bench --suite writes it as JSON,
// and internal/bench/perfdoc renders that as docs/performance.md.
type SuiteResult struct {
	// Command is the command line that ran the suite.
	Command string `json:"command"`
	// Time is when the last run ended.
	Time time.Time  `json:"time"`
	Runs []SuiteRun `json:"runs"`
	// BinaryBytes is the size of the imustream binary that ran.
	BinaryBytes int64 `json:"binary_bytes"`
}

// SuiteRun is one run of the suite.
type SuiteRun struct {
	// Key names the run for Find: idle, load, gc…
	Key    string  `json:"key"`
	Title  string  `json:"title"`
	Result *Result `json:"result"`
}

// Find returns the result of the run named key; nil when it did not run.
func (s *SuiteResult) Find(key string) *Result {
	for _, r := range s.Runs {
		if r.Key == key {
			return r.Result
		}
	}
	return nil
}

// ReadSuite reads a SuiteResult as Suite writes it, with each run's
// Config.Duration and Config.Warmup, which the JSON has in seconds only.
func ReadSuite(r io.Reader) (*SuiteResult, error) {
	var s SuiteResult
	if err := json.NewDecoder(r).Decode(&s); err != nil {
		return nil, fmt.Errorf("bench: suite: %w", err)
	}
	for i, run := range s.Runs {
		if run.Key == "" || run.Result == nil {
			return nil, fmt.Errorf("bench: suite: run %d (%q) lacks its key or its result", i+1, run.Title)
		}
		c := &run.Result.Config
		c.Duration = time.Duration(math.Round(c.Seconds * float64(time.Second)))
		c.Warmup = time.Duration(math.Round(c.WarmupSecs * float64(time.Second)))
	}
	return &s, nil
}

// writeSuite writes s to path as JSON.
func writeSuite(path string, s *SuiteResult) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("bench: suite: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

// suiteRun is one run of the comparison that Suite measures.
type suiteRun struct {
	key, title string
	set        func(c *Config)
}

// suite lists the comparison runs. Every run has the time.Ticker baseline
// next to it; the flood run follows the loaded one it is compared with.
func suite() []suiteRun {
	return []suiteRun{
		{key: "idle", title: "200 Hz, idle, RT priority", set: func(c *Config) {}},
		{key: "idle-nort", title: "200 Hz, idle, no RT priority", set: func(c *Config) { c.RTPriority = 0 }},
		{key: "load", title: "200 Hz, load 2, RT priority", set: func(c *Config) { c.Load = 2 }},
		{key: "load-2cpu", title: "200 Hz, load 2, RT priority, two sender threads", set: func(c *Config) { c.Load, c.CPU = 2, twoCPUs() }},
		{key: "load-spin", title: "200 Hz, load 2, RT priority, 50 µs spin", set: func(c *Config) { c.Load, c.Spin = 2, 50*time.Microsecond }},
		{key: "flood", title: "200 Hz, load 2, RT priority, flood 10000 pps", set: func(c *Config) { c.Load, c.FloodPPS = 2, 10000 }},
		{key: "gc", title: "200 Hz, load 2, RT priority, 2000 status commands/s", set: func(c *Config) { c.Load, c.Commands = 2, 2000 }},
		{key: "load-nort", title: "200 Hz, load 2, no RT priority", set: func(c *Config) { c.Load, c.RTPriority = 2, 0 }},
		{key: "1khz", title: "1 kHz, load 2, RT priority", set: func(c *Config) { c.Load, c.RateHz = 2, 1000 }},
		{key: "8khz", title: "8 kHz in batches of 8, load 2, RT priority", set: func(c *Config) { c.Load, c.RateHz, c.Batch = 2, 8000, 8 }},
	}
}

// twoCPUs is the last two CPUs the bench may use (the daemon's auto
// takes the last one): a second sender thread's run.
func twoCPUs() daemon.CPUs {
	last, err := rt.LastCPUs(2)
	if err != nil || len(last) < 2 {
		return daemon.CPUs{Auto: true}
	}
	return daemon.CPUs{List: last}
}

// config is the run's configuration: base's duration, warm-up, mlock,
// cycles and peer, the defaults for the rest, and what the run sets.
func (s suiteRun) config(base Config) Config {
	d := DefaultConfig()
	c := base
	c.Baseline = true
	c.Load, c.FloodPPS, c.Commands, c.RateHz, c.Batch, c.RTPriority, c.CPU, c.Spin = 0, 0, 0, d.RateHz, d.Batch, d.RTPriority, d.CPU, d.Spin
	s.set(&c)
	// At 8 kHz the floor's wake-ups would land 62 µs from the daemon's.
	c.Floor = c.RateHz <= 1000
	return c
}

// Suite runs the comparison runs, each with base's duration, printing
// each one's table to stderr, writes their SuiteResult as JSON to path and
// prints the acceptance verdicts to stdout.
func Suite(ctx context.Context, base Config, path string, stdout, stderr io.Writer) error {
	res := SuiteResult{Command: "imustream bench --suite " + path + " --duration " + base.Duration.String()}
	if base.Peer != "" {
		res.Command += " --peer " + base.Peer
	}
	runs := suite()
	for i, s := range runs {
		c := s.config(base)
		if err := c.Check(); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "[%d/%d] %s: imustream %s\n", i+1, len(runs), s.title, strings.Join(c.Args(), " "))
		r, err := Run(ctx, c)
		if err != nil {
			return fmt.Errorf("%s: %w", s.title, err)
		}
		res.Runs = append(res.Runs, SuiteRun{Key: s.key, Title: s.title, Result: r})
		WriteTable(stderr, r)
		fmt.Fprintln(stderr)
	}
	res.Time = time.Now().UTC().Truncate(time.Second)
	if exe, err := os.Executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			res.BinaryBytes = fi.Size()
		}
	}
	if err := writeSuite(path, &res); err != nil {
		return err
	}
	for _, v := range res.Acceptance() {
		fmt.Fprintf(stdout, "%-9s %s: %s\n", v.Mark(), v.Criterion, v.Figure)
	}
	fmt.Fprintf(stdout, "wrote %s\n", path)
	return nil
}

// Verdict is one acceptance criterion and what the suite measured for it.
type Verdict struct {
	Criterion, Figure string
	Met               bool
}

// Mark says whether the criterion was met.
func (v Verdict) Mark() string {
	if v.Met {
		return "met"
	}
	return "NOT MET"
}

// Acceptance checks the project's goals against the suite's runs.
func (s *SuiteResult) Acceptance() []Verdict {
	load := s.Find("load")
	out := costGoals(s.Find("idle"), load)
	out = append(out, loadGoals(load)...)
	if fl := s.Find("flood"); fl != nil && fl.FloodOn != nil && fl.FloodOff != nil {
		out = append(out, floodGoal(fl, load))
	}
	for _, k := range []struct{ key, what string }{{"1khz", "1 kHz single-sample"}, {"8khz", "8 kHz with --batch 8"}} {
		if r := s.Find(k.key); r != nil {
			p := &r.Product
			out = append(out, Verdict{k.what + ": 0 loss",
				fmt.Sprintf("%d samples, %d lost, end of stream seen: %v", p.Samples, p.Lost, p.EndSeen),
				p.Lost == 0 && p.EndSeen && p.Samples > 0})
		}
	}
	return out
}

// costGoals compare the daemon with the C loop (Config.Peer) in the same
// runs: its CPU idle and its cadence under load. None without a peer.
func costGoals(idle, load *Result) []Verdict {
	var out []Verdict
	if idle != nil && idle.Peer != nil {
		p, c := &idle.Product, idle.Peer
		ratio := p.CPUPerTickUs / math.Max(c.CPUPerTickUs, 0.1)
		out = append(out, Verdict{
			"200 Hz, defaults: CPU per tick ≤ 1.3× the C loop's, same run",
			fmt.Sprintf("%.1f µs vs %.1f µs: %.2f×", p.CPUPerTickUs, c.CPUPerTickUs, ratio),
			ratio <= 1.3,
		})
	}
	if load != nil && load.Peer != nil {
		p, c := &load.Product, load.Peer
		ratio := p.Interval.P99 / math.Max(c.Interval.P99, 0.1)
		out = append(out, Verdict{
			"200 Hz, load 2: p99 ≤ 1.1× the C loop's, same run",
			fmt.Sprintf("%.1f µs vs %.1f µs: %.2f×", p.Interval.P99, c.Interval.P99, ratio),
			ratio <= 1.1,
		})
	}
	return out
}

// loadGoals are the goals judged on the loaded run (nil: none).
func loadGoals(load *Result) []Verdict {
	if load == nil {
		return nil
	}
	p := &load.Product
	st := load.StartToFirst
	out := []Verdict{{
		"200 Hz, load 2: 0 loss, and start → first datagram p99 ≤ 1 ms",
		fmt.Sprintf("%d lost; start → first p50 %.0f µs, p99 %.0f µs, max %.0f µs over %d cycles", p.Lost, st.P50, st.P99, st.Max, st.N),
		p.Lost == 0 && st.N >= 50 && st.P99 <= 1000,
	}}
	if b := load.Baseline; b != nil {
		ratio := b.Interval.P99 / math.Max(p.Interval.P99, 0.1)
		out = append(out, Verdict{
			"same run: p99 at least 30× smaller than the time.Ticker baseline's",
			fmt.Sprintf("%.1f µs vs %.1f µs: %.0f×", p.Interval.P99, b.Interval.P99, ratio),
			ratio >= 30,
		})
	}
	return out
}

// floodGoal compares the flood run's flood seconds with its quiet ones,
// and names the same split of the loaded run (nil: none) as the noise.
func floodGoal(fl, load *Result) Verdict {
	on, off := fl.FloodOn, fl.FloodOff
	a, b := off.Interval.P99, on.Interval.P99
	change := (b - a) / math.Max(a, 0.1)
	noise := ""
	if load != nil && load.FloodOn != nil && load.FloodOff != nil {
		x, y := load.FloodOff.Interval.P99, load.FloodOn.Interval.P99
		noise = fmt.Sprintf("; the same split of the loaded run without a flood: %.1f µs → %.1f µs (%+.0f %%)", x, y, (y-x)/math.Max(x, 0.1)*100)
	}
	return Verdict{
		"flood 10000 pps: p99 changes by ≤ 10 % and no tick is missed",
		fmt.Sprintf("p99 %.1f µs in the quiet seconds → %.1f µs in the flood seconds (%+.0f %%); %d skips in the flood seconds, %d lost; %s commands dropped%s",
			a, b, change*100, on.Skipped, fl.Product.Lost, fl.DaemonStatus["drop_not_allowed"], noise),
		math.Abs(change) <= 0.10 && on.Skipped == 0 && fl.Product.Lost == 0,
	}
}
