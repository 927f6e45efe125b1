package main

import (
	_ "embed"
	"fmt"
	"io"
	"math"
	"text/template"
	"time"

	"github.com/imustream/imustream/internal/bench"
)

// docTemplate is docs/performance.md with the suite's figures left out.
//
//go:embed performance.md.tmpl
var docTemplate string

var docTmpl = template.Must(template.New("performance.md").Funcs(template.FuncMap{
	"f0": func(v float64) string { return fmt.Sprintf("%.0f", v) },
	"f1": func(v float64) string { return fmt.Sprintf("%.1f", v) },
	// ratio is how many times b is a, as the p99 ratio column shows it.
	"ratio": func(b, a float64) string { return fmt.Sprintf("%.0f×", b/math.Max(a, 0.1)) },
	"mib":   func(kib int64) string { return fmt.Sprintf("%.1f", float64(kib)/1024) },
	// x is how many times b is a, to two places.
	"x": func(b, a float64) string { return fmt.Sprintf("%.2f×", b/math.Max(a, 0.01)) },
	// cycles is µs of CPU at mhz in thousands of cycles.
	"kcycles": func(us, mhz float64) string { return fmt.Sprintf("%.0f", us*mhz/1000) },
	// onPi is the % of one core a cost of us µs per tick here takes at
	// rateHz on a core of piMHz doing as much per cycle as this one.
	"onPi": func(us, mhz, piMHz float64, rateHz int) string {
		return fmt.Sprintf("%.1f", us*mhz/piMHz*float64(rateHz)/1e4)
	},
}).Parse(docTemplate))

// docData is what performance.md.tmpl renders.
type docData struct {
	// Cmd is the command line that measured the suite, Render the one
	// that wrote the document from its results.
	Cmd, Render string
	// Date is the day of the measurement, UTC.
	Date string
	// Machine and Duration are those of the runs.
	Machine  bench.MachineInfo
	Duration time.Duration
	// Runs are the suite's runs, in its order.
	Runs     []docRun
	Verdicts []bench.Verdict
	// Idle, Load, TwoCPU, Spin and GC are the runs idle, load, load-2cpu,
	// load-spin and gc; nil when they did not run.
	Idle, Load, TwoCPU, Spin, GC *bench.Result
	// Peer says whether the runs measured a peer (the C loop) too.
	Peer bool
	// BinaryMiB is the size of the binary that ran.
	BinaryMiB float64
	// GCTotal is the garbage collections of the runs without commands.
	GCTotal int
}

// docRun is one run's row in the tables.
type docRun struct {
	Title string
	*bench.Result
}

// writeDoc writes docs/performance.md for the suite's results, as written
// by the command line render.
func writeDoc(w io.Writer, s *bench.SuiteResult, render string) error {
	d := docData{Cmd: s.Command, Render: render, Date: s.Time.UTC().Format("2006-01-02"), Verdicts: s.Acceptance(),
		Idle: s.Find("idle"), Load: s.Find("load"), TwoCPU: s.Find("load-2cpu"), Spin: s.Find("load-spin"), GC: s.Find("gc"),
		BinaryMiB: float64(s.BinaryBytes) / (1 << 20)}
	for _, run := range s.Runs {
		d.Machine, d.Duration = run.Result.Machine, run.Result.Config.Duration
		d.Peer = d.Peer || run.Result.Peer != nil
		d.Runs = append(d.Runs, docRun{run.Title, run.Result})
		if run.Key != "gc" {
			d.GCTotal += run.Result.Product.GCCycles
		}
	}
	if err := docTmpl.Execute(w, d); err != nil {
		return fmt.Errorf("perfdoc: %w", err)
	}
	return nil
}
