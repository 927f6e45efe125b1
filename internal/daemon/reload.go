package daemon

import (
	"context"
	"os"
	"sync"
	"time"
)

// DefaultRTPriority is the sender thread's SCHED_FIFO priority the CLI
// asks for unless told otherwise. It preempts every ordinary thread, yet
// only equals (never starves) the interrupt threads of a PREEMPT_RT kernel
// (50), which the stream's network and I²C traffic depend on.
const DefaultRTPriority = 50

// DefaultSpin is how long before each deadline the sender threads wake to
// busy-wait the rest of the way unless the CLI is told otherwise: none. A
// spin is CPU spent on every tick, and what it buys in cadence is smaller
// than what it costs (docs/performance.md, "What it costs").
const DefaultSpin time.Duration = 0

// RunReloading is Run, and a Reload with what load returns each time a
// value comes on reload (SIGHUP in the CLI). A configuration that does
// not load or apply is logged and the running one kept.
func (d *Daemon) RunReloading(ctx context.Context, reload <-chan os.Signal, load func() (Reloadable, error)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-reload:
			}
			r, err := load()
			if err == nil {
				err = d.Reload(r)
			}
			if err != nil {
				d.log.Error("reload failed; the running configuration stays", "err", err)
			}
		}
	})
	err := d.Run(ctx)
	cancel()
	wg.Wait()
	return err
}
