package bench

import (
	_ "embed"
	"fmt"
	"io"
	"math"
	"text/template"
	"time"
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
	// Cmd is the command line that wrote the document.
	Cmd string
	// Date is the day of the measurement, UTC.
	Date string
	// Machine and Duration are those of the runs.
	Machine  MachineInfo
	Duration time.Duration
	// Runs are the runs that have a result, in the suite's order.
	Runs     []docRun
	Verdicts []verdict
	// Load, OneCPU and GC are the runs load, load-1cpu and gc; nil when
	// they did not run.
	Load, OneCPU, GC *Result
	// GCTotal is the garbage collections of the runs without commands.
	GCTotal int
}

// docRun is one run's row in the tables.
type docRun struct {
	Title string
	*Result
}

// writeDoc writes docs/performance.md for the runs, measured at when, as
// written by the command line cmd.
func writeDoc(w io.Writer, cmd string, runs []*suiteRun, when time.Time) error {
	d := docData{Cmd: cmd, Date: when.UTC().Format("2006-01-02"), Verdicts: acceptance(runs),
		Load: find(runs, "load"), OneCPU: find(runs, "load-1cpu"), GC: find(runs, "gc")}
	for _, s := range runs {
		if s.r == nil {
			continue
		}
		d.Machine, d.Duration = s.r.Machine, s.r.Config.Duration
		d.Runs = append(d.Runs, docRun{s.title, s.r})
		if s.key != "gc" {
			d.GCTotal += s.r.Product.GCCycles
		}
	}
	if err := docTmpl.Execute(w, d); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}
