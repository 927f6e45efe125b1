package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/imustream/imustream/internal/daemon"
)

// suiteRun is one run of the comparison that Suite writes.
type suiteRun struct {
	key, title string
	set        func(c *Config)
	r          *Result
}

// suite lists the comparison runs. Every run has the time.Ticker baseline
// next to it; the flood run follows the loaded one it is compared with.
func suite() []*suiteRun {
	return []*suiteRun{
		{key: "idle", title: "200 Hz, idle, RT priority", set: func(c *Config) {}},
		{key: "idle-nort", title: "200 Hz, idle, no RT priority", set: func(c *Config) { c.RTPriority = 0 }},
		{key: "load", title: "200 Hz, load 2, RT priority", set: func(c *Config) { c.Load = 2 }},
		{key: "load-1cpu", title: "200 Hz, load 2, RT priority, one sender thread", set: func(c *Config) { c.Load, c.CPU = 2, daemon.CPUs{List: []int{1}} }},
		{key: "flood", title: "200 Hz, load 2, RT priority, flood 10000 pps", set: func(c *Config) { c.Load, c.FloodPPS = 2, 10000 }},
		{key: "gc", title: "200 Hz, load 2, RT priority, 2000 status commands/s", set: func(c *Config) { c.Load, c.Commands = 2, 2000 }},
		{key: "load-nort", title: "200 Hz, load 2, no RT priority", set: func(c *Config) { c.Load, c.RTPriority = 2, 0 }},
		{key: "1khz", title: "1 kHz, load 2, RT priority", set: func(c *Config) { c.Load, c.RateHz = 2, 1000 }},
		{key: "8khz", title: "8 kHz in batches of 8, load 2, RT priority", set: func(c *Config) { c.Load, c.RateHz, c.Batch = 2, 8000, 8 }},
	}
}

// config is the run's configuration: base's duration, warm-up, spin,
// mlock and cycles, the defaults for the rest, and what the run sets.
func (s *suiteRun) config(base Config) Config {
	d := DefaultConfig()
	c := base
	c.Baseline = true
	c.Load, c.FloodPPS, c.Commands, c.RateHz, c.Batch, c.RTPriority, c.CPU = 0, 0, 0, d.RateHz, d.Batch, d.RTPriority, d.CPU
	s.set(&c)
	// At 8 kHz the floor's wake-ups would land 62 µs from the daemon's.
	c.Floor = c.RateHz <= 1000
	return c
}

// Suite runs the comparison runs, each with base's duration, printing
// each one's table to stderr, writes them as Markdown to path (rendered
// from performance.md.tmpl) and prints the acceptance verdicts to stdout.
func Suite(ctx context.Context, base Config, path string, stdout, stderr io.Writer) error {
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
		s.r = r
		WriteTable(stderr, r)
		fmt.Fprintln(stderr)
	}
	var b bytes.Buffer
	cmd := "imustream bench --markdown " + path + " --duration " + base.Duration.String()
	if err := writeDoc(&b, cmd, runs, time.Now()); err != nil {
		return err
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	for _, v := range acceptance(runs) {
		fmt.Fprintf(stdout, "%-9s %s: %s\n", v.Mark(), v.Criterion, v.Figure)
	}
	fmt.Fprintf(stdout, "wrote %s\n", path)
	return nil
}

// verdict is one acceptance criterion and what the suite measured for it.
type verdict struct {
	Criterion, Figure string
	Met               bool
}

// Mark says whether the criterion was met.
func (v verdict) Mark() string {
	if v.Met {
		return "met"
	}
	return "NOT MET"
}

// find returns the result of the run named key; nil when it did not run.
func find(runs []*suiteRun, key string) *Result {
	for _, s := range runs {
		if s.key == key {
			return s.r
		}
	}
	return nil
}

// acceptance checks the project's timing goals against the suite's runs.
func acceptance(runs []*suiteRun) []verdict {
	load := find(runs, "load")
	out := loadGoals(load)
	if fl := find(runs, "flood"); fl != nil && fl.FloodOn != nil && fl.FloodOff != nil {
		out = append(out, floodGoal(fl, load))
	}
	if idle := find(runs, "idle"); idle != nil {
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

// loadGoals are the jitter goals, judged on the loaded run (nil: none).
func loadGoals(load *Result) []verdict {
	if load == nil {
		return nil
	}
	p := &load.Product
	rt := strings.HasPrefix(p.Sched, "SCHED_FIFO")
	floor := ""
	if f := load.Floor; f != nil {
		floor = fmt.Sprintf("; the machine's floor in the same minute: p99 %.1f µs, max %.1f µs", f.Interval.P99, f.Interval.Max)
	}
	out := []verdict{{
		"200 Hz, load 2, RT priority granted: p99 ≤ 50 µs, max ≤ 250 µs, 0 loss, over ≥ 60 s",
		fmt.Sprintf("p99 %.1f µs, max %.1f µs, %d lost, %s, %s%s", p.Interval.P99, p.Interval.Max, p.Lost, load.Config.Duration, p.Sched, floor),
		rt && p.Interval.P99 <= 50 && p.Interval.Max <= 250 && p.Lost == 0 && load.Config.Duration >= time.Minute,
	}}
	if b := load.Baseline; b != nil {
		ratio := b.Interval.P99 / math.Max(p.Interval.P99, 0.1)
		out = append(out, verdict{
			"same run: p99 at least 30× smaller than the time.Ticker baseline's",
			fmt.Sprintf("%.1f µs vs %.1f µs: %.0f×", p.Interval.P99, b.Interval.P99, ratio),
			ratio >= 30,
		})
	}
	return out
}

// floodGoal compares the flood run's flood seconds with its quiet ones,
// and names the same split of the loaded run (nil: none) as the noise.
func floodGoal(fl, load *Result) verdict {
	on, off := fl.FloodOn, fl.FloodOff
	a, b := off.Interval.P99, on.Interval.P99
	change := (b - a) / math.Max(a, 0.1)
	noise := ""
	if load != nil && load.FloodOn != nil && load.FloodOff != nil {
		x, y := load.FloodOff.Interval.P99, load.FloodOn.Interval.P99
		noise = fmt.Sprintf("; the same split of the loaded run without a flood: %.1f µs → %.1f µs (%+.0f %%)", x, y, (y-x)/math.Max(x, 0.1)*100)
	}
	return verdict{
		"flood 10000 pps: p99 changes by ≤ 10 % and no tick is missed",
		fmt.Sprintf("p99 %.1f µs in the quiet seconds → %.1f µs in the flood seconds (%+.0f %%); %d skips in the flood seconds, %d lost; %s commands dropped%s",
			a, b, change*100, on.Skipped, fl.Product.Lost, fl.DaemonStatus["drop_not_allowed"], noise),
		math.Abs(change) <= 0.10 && on.Skipped == 0 && fl.Product.Lost == 0,
	}
}
