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
	// Load, OneCPU and GC are the runs load, load-1cpu and gc; nil when
	// they did not run.
	Load, OneCPU, GC *bench.Result
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
		Load: s.Find("load"), OneCPU: s.Find("load-1cpu"), GC: s.Find("gc")}
	for _, run := range s.Runs {
		d.Machine, d.Duration = run.Result.Machine, run.Result.Config.Duration
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
