package receiver

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/internal/daemon/daemontest"
)

// SyncErrors returns |t_pc_ns − t_wall_ns| of every row, sorted: on one
// machine the daemon's CLOCK_REALTIME is the PC's, so t_wall_ns is the
// truth t_pc_ns estimates (from t_mono_ns and the exchanges alone).
func syncErrors(t *testing.T, rows []csvRow) []int64 {
	t.Helper()
	errs := make([]int64, 0, len(rows))
	for _, r := range rows {
		pc, err := strconv.ParseInt(r.pc, 10, 64)
		if err != nil {
			t.Fatalf("seq %d: t_pc_ns %q", r.seq, r.pc)
		}
		errs = append(errs, max(pc-r.wall, r.wall-pc))
	}
	slices.Sort(errs)
	return errs
}

func quantile(sorted []int64, q float64) int64 { return sorted[int(q*float64(len(sorted)-1))] }

// The time sync over loopback, with a real daemon: every sample's t_pc_ns
// is its t_wall_ns within a bound generous enough for a machine under
// load (the figures measured on an idle one are in the notes).
func TestTimeSyncLoopback(t *testing.T) {
	d, _ := daemontest.Start(t, daemon.Config{Logger: slog.New(slog.DiscardHandler)}, nil)
	var csv bytes.Buffer
	rc, err := NewRecording(RecordConfig{CSV: &csv, Duration: 3 * time.Second, Device: d.Addr().String(), Program: "test"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := control.Dial(d.Addr().String(), &control.ClientOptions{OnData: rc.Receive, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := rc.Run(context.Background(), c)
	if err != nil || res.Sync == nil {
		t.Fatalf("Run: %+v, %v", res, err)
	}
	errs := syncErrors(t, parseRecording(t, csv.Bytes()))
	p50, p99 := quantile(errs, 0.5), quantile(errs, 0.99)
	t.Logf("%d samples: |t_pc − t_wall| p50 %d ns, p99 %d ns, max %d ns; %+v", len(errs), p50, p99, errs[len(errs)-1], *res.Sync)
	bound := 2 * time.Millisecond
	if os.Getenv("QEMU_CPU") != "" {
		bound = 20 * time.Millisecond // make test-arm: every step emulated
	}
	if p99 > int64(bound) {
		t.Errorf("p99 %s over loopback", time.Duration(p99))
	}
	if s := res.Sync; s.Exchanges < 10 || s.RTTNs <= 0 || s.OffsetNs > s.RTTNs || -s.OffsetNs > s.RTTNs {
		t.Errorf("sync %+v: on one clock the offset is within the round trip of 0", *s)
	}
}
