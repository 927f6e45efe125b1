// Package bench measures the stream's timing: it runs the daemon, as
// deployed but with the simulated sensor, as a child process, streams from
// it on loopback into a socket that reads each datagram's kernel receive
// time, and reports the jitter, lateness, loss and cost it measured, next
// to a plain time.Ticker loop doing the same job (the baseline) and to the
// machine's own wake-up timing (the floor), both measured at the same time.
//
// The children are this program run again (os.Executable) with the daemon's
// command line or with one of the hidden commands BaselineCommand,
// SpinCommand and FloorCommand, whose entry points are Baseline, Spin and
// Floor: the program's command table must route those names to them. The
// child command lines are written and parsed in this package only.
//
// Run measures once; Suite runs the comparison runs and writes their
// results as JSON (SuiteResult), which the developer tool perfdoc
// (internal/bench/perfdoc, go run) renders as docs/performance.md from its
// template. The template stays out of this package and so out of
// imustream: text/template would keep the linker from dropping unused
// methods. The bench needs Linux (SO_TIMESTAMPNS and /proc); elsewhere its
// entry points return ErrNeedsLinux.
package bench
