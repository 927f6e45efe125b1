package bench

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

// WriteTable writes r as the table imustream bench prints.
func WriteTable(w io.Writer, r *Result) {
	c := &r.Config
	flood := "off"
	if c.FloodPPS > 0 {
		flood = fmt.Sprintf("%d pps from 127.0.0.2 (%d sent)", c.FloodPPS, r.FloodSent)
	}
	if c.Commands > 0 {
		flood += fmt.Sprintf(", %d status commands/s from 127.0.0.1 (%d sent)", c.Commands, r.CommandsSent)
	}
	if c.Rig {
		flood += fmt.Sprintf(", rig: a start packet every second (%d sent, %d rig samples received)", r.RigPackets, r.RigSamples)
	}
	fmt.Fprintf(w, "%s\n", r.Command)
	fmt.Fprintf(w, "machine: %s; load average %.2f before, %.2f after; other processes used %.0f %% CPU; steal %.0f ms\n",
		r.Machine, r.LoadBefore, r.LoadAfter, r.OtherCPU, r.StealMs)
	fmt.Fprintf(w, "%d Hz, batch %d, %s measured after %s warm-up, load %d, flood %s\n\n",
		c.RateHz, c.Batch, c.Duration, c.Warmup, c.Load, flood)
	writeStreams(w, r)
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

// writeStreams writes the table of the streams' figures, side by side.
func writeStreams(w io.Writer, r *Result) {
	streams := []*StreamResult{&r.Product}
	if r.Peer != nil {
		streams = append(streams, r.Peer)
	}
	if r.Baseline != nil {
		streams = append(streams, r.Baseline)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(label string, f func(s *StreamResult) string) {
		fmt.Fprintf(tw, "%s\t", label)
		for _, s := range streams {
			fmt.Fprintf(tw, "%s\t", f(s))
		}
		fmt.Fprintln(tw)
	}
	sum := func(label string, g func(s *StreamResult) Summary) {
		row(label, func(s *StreamResult) string {
			x := g(s)
			return fmt.Sprintf("%.1f / %.1f / %.1f / %.1f", x.P50, x.P99, x.P999, x.Max)
		})
	}
	row("µs: p50 / p99 / p99.9 / max", func(s *StreamResult) string { return s.Name })
	row("scheduling", func(s *StreamResult) string { return s.Sched })
	row("datagrams / samples", func(s *StreamResult) string { return fmt.Sprintf("%d / %d", s.Datagrams, s.Samples) })
	row("lost", func(s *StreamResult) string { return fmt.Sprintf("%d (end seen: %v)", s.Lost, s.EndSeen) })
	sum("|interval − period|", func(s *StreamResult) Summary { return s.Interval })
	sum("grid lateness", func(s *StreamResult) Summary { return s.Lateness })
	sum("|t_mono step − period|", func(s *StreamResult) Summary { return s.Spacing })
	sum("reported late_ns", func(s *StreamResult) Summary { return s.Reported })
	sum("one-way latency", func(s *StreamResult) Summary { return s.Latency })
	row("flagged late / skipped", func(s *StreamResult) string { return fmt.Sprintf("%d / %d", s.FlaggedLate, s.FlaggedSkipped) })
	if r.Config.FIFO {
		row("after a FIFO overflow", func(s *StreamResult) string { return fmt.Sprintf("%d", s.FlaggedOverflow) })
	}
	row("CPU % / RSS MiB", func(s *StreamResult) string {
		return fmt.Sprintf("%.1f / %.1f", s.CPUPercent, float64(s.RSSKiB)/1024)
	})
	row("CPU µs per tick", func(s *StreamResult) string { return fmt.Sprintf("%.1f", s.CPUPerTickUs) })
	row("GC cycles", func(s *StreamResult) string { return strconv.Itoa(s.GCCycles) })
	row("sender threads blocked / sleeps", func(s *StreamResult) string {
		if s.SenderBlocks == nil {
			return "-"
		}
		return fmt.Sprintf("%d / %d", s.SenderBlocks.Switches, s.SenderBlocks.Sleeps())
	})
	tw.Flush()
}
