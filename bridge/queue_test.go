package bridge

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/internal/daemon/daemontest"
	"github.com/imustream/imustream/internal/natstest"
	"github.com/imustream/imustream/internal/syncbuf"
	"github.com/imustream/imustream/receiver"
)

// TestQueueFullDrops: while JetStream cannot store anything (no stream
// yet) the bridge keeps receiving, fills its small queue and drops the
// batches after it, counting them; once the stream exists the queue is
// published, and a consumer's loss is exactly the samples the bridge
// counted as dropped.
func TestQueueFullDrops(t *testing.T) {
	if testing.Short() {
		t.Skip("TestQueueFullDrops did not run: -short")
	}
	cluster := natstest.Start(t, 1)
	d, _ := daemontest.Start(t, daemon.Config{Logger: slog.New(slog.DiscardHandler)}, nil)
	nc := connect(t, cluster.URLs(), "bridge")
	var logged syncbuf.Buffer
	logf := func(format string, args ...any) { t.Logf(format, args...); fmt.Fprintf(&logged, format+"\n", args...) }
	br, err := New(Config{Conn: nc, Stream: "Q", QueueLen: 8, MaxPending: 2, AckWait: time.Second, Lease: 30 * time.Second, Logf: logf})
	if err != nil {
		t.Fatal(err)
	}
	if err := br.Add(Device{Name: "pi", Addr: d.Addr().String()}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- br.Run(ctx) }()
	go br.LogStats(ctx, 100*time.Millisecond)
	defer func() { cancel(); <-done }()

	// The reader goes on while nothing is stored: drops are counted.
	waitFor(t, "batches dropped on a full queue", 60*time.Second, func() bool { return br.Stats().Dropped >= 3 })
	before := br.Stats().Datagrams
	waitFor(t, "the reader to keep receiving", 60*time.Second, func() bool { return br.Stats().Datagrams >= before+100 })

	// AwaitStream tries again while the cluster elects its leader.
	streamCtx, stopStream := context.WithTimeout(context.Background(), 60*time.Second)
	defer stopStream()
	if err := br.AwaitStream(streamCtx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // some samples stored after the drops
	cancel()
	err = <-done
	done <- err // for the deferred wait
	if err != nil {
		t.Fatal(err)
	}
	st := br.Stats()
	if st.Queued != 0 || st.Pending != 0 {
		t.Fatalf("after Run: %d queued, %d unacknowledged", st.Queued, st.Pending)
	}

	rnc := connect(t, cluster.URLs(), "consumer")
	if !strings.Contains(logged.String(), " messages stored, ") || !strings.Contains(logged.String(), " queued, ") {
		t.Errorf("LogStats logged no counters:\n%s", logged.String())
	}
	path := filepath.Join(t.TempDir(), "pi.csv")
	out, err := receiver.CreateOutput(path, false)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Record(context.Background(), RecordConfig{Conn: rnc, Subject: "imustream.pi.imu", From: From{}, CatchUp: true, CSV: out.File()})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Save(out, true, "imustream.pi.imu on test", "test", 0); err != nil {
		t.Fatal(err)
	}
	meta, err := os.ReadFile(receiver.SidecarPath(path))
	if err != nil || !strings.Contains(string(meta), `"complete": true`) || !strings.Contains(string(meta), "read from NATS imustream.pi.imu on test") {
		t.Errorf("sidecar: %s, %v", meta, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Errorf("the recording at %s: %v", path, err)
	}
	s := res.Recorder.Summary()
	t.Logf("bridge %+v; consumer: %+v, bad %d", st, s, res.Bad)
	// The queue keeps the oldest batches and drops the newest, so the
	// stream starts at the session's first sample: every sample the bridge
	// received is stored or counted as dropped, and the consumer's loss is
	// the dropped ones exactly.
	if s.Lost != st.DroppedSamples || s.Samples+s.Lost != st.Samples || !s.EndSeen || s.Sessions != 1 {
		t.Fatalf("consumer: %d samples, %d lost, end seen %v, %d sessions; the bridge received %d samples and dropped %d",
			s.Samples, s.Lost, s.EndSeen, s.Sessions, st.Samples, st.DroppedSamples)
	}
}
