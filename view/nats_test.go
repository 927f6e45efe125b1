package view

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/imustream/imustream/bridge"
	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/internal/daemon/daemontest"
	"github.com/imustream/imustream/internal/natstest"
	"github.com/imustream/imustream/internal/syncbuf"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// TestViewFromNATS: a daemon (on a loopback address of its own) → the
// bridge → nats-server; the view reads the device's subject from the
// stream's start, and its page socket gets points equal to the rows a
// recorder of the same subject wrote. The page's hello says why there are
// no buttons, and a stop sent anyway changes nothing.
func TestViewFromNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("TestViewFromNATS did not run: -short")
	}
	cluster := natstest.Start(t, 1)
	url := cluster.URLs()
	d, _ := daemontest.Start(t, daemon.Config{Listen: "127.0.1.9:0", RateHz: 500, Logger: slog.New(slog.DiscardHandler)}, nil)
	bnc, err := bridge.Connect(url, "bridge", false)
	if err != nil {
		t.Fatal(err)
	}
	defer bnc.Close()
	br, err := bridge.New(bridge.Config{Conn: bnc, Stream: "VIEW", Lease: 30 * time.Second, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the stream to be created", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return br.EnsureStream(ctx) == nil
	})
	if err := br.Add(bridge.Device{Name: "pi", Addr: d.Addr().String()}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	bctx, stopBridge := context.WithCancel(ctx)
	defer stopBridge()
	wg.Go(func() {
		if err := br.Run(bctx); err != nil {
			t.Errorf("bridge: %v", err)
		}
	})

	// The recorder beside the view: the same subject, from the start.
	const subject = "imustream.pi.imu"
	rnc, err := bridge.Connect(url, "recorder", false)
	if err != nil {
		t.Fatal(err)
	}
	defer rnc.Close()
	var rows syncbuf.Buffer
	recCtx, stopRec := context.WithCancel(ctx)
	recDone := make(chan *bridge.RecordResult, 1)
	wg.Go(func() {
		res, err := bridge.Record(recCtx, bridge.RecordConfig{Conn: rnc, Subject: subject, CSV: &rows})
		if err != nil {
			t.Errorf("recorder: %v", err)
		}
		recDone <- res
	})

	sink := &countSink{}
	v := NewNATS(Config{LiveEvery: 100 * time.Millisecond, Sinks: []Sink{sink}}, NATSSource{URLs: url, Subject: subject})
	hs := httptest.NewServer(v.Handler())
	defer hs.Close()
	vctx, stopView := context.WithCancel(ctx)
	type runOut struct {
		n             int
		err           error
		lost, samples uint64
	}
	ran := make(chan runOut, 1)
	wg.Go(func() {
		res, err := v.RunNATS(vctx)
		o := runOut{n: len(res), err: err}
		if len(res) > 0 {
			o.lost, o.samples = res[0].Summary.Lost, res[0].Summary.Samples
		}
		ran <- o
	})

	wctx, wcancel := context.WithTimeout(ctx, 120*time.Second)
	defer wcancel()
	ws, _, err := websocket.Dial(wctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 22)
	_, b, err := ws.Read(wctx)
	if err != nil {
		t.Fatal(err)
	}
	var hello struct{ Type, Device, ReadOnly string }
	if err := json.Unmarshal(b, &hello); err != nil || hello.Type != "hello" || hello.Device != subject || hello.ReadOnly != ReadOnlyNATS {
		t.Fatalf("first message %s (%v): want a hello naming %s, read-only", b, err, subject)
	}
	got := map[string][]string{} // "session/seq" → ax, az, temp as sent
	type health struct {
		Running    bool
		Samples    uint64
		Lost       uint64
		NominalHz  uint64
		Jitter     []uint64
		Duplicated uint64
	}
	var last *health
	read := func(until func() bool) {
		t.Helper()
		for !until() {
			_, b, err := ws.Read(wctx)
			if err != nil {
				t.Fatal(err)
			}
			var f struct {
				Type         string
				Session      []string
				Seq          []uint32
				Ax, Az, Temp []json.RawMessage
				Health       *health
			}
			if err := json.Unmarshal(b, &f); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			for i := range f.Seq {
				got[f.Session[i]+"/"+strconv.FormatUint(uint64(f.Seq[i]), 10)] = []string{string(f.Ax[i]), string(f.Az[i]), string(f.Temp[i])}
			}
			if f.Health != nil {
				last = f.Health
			}
		}
	}
	read(func() bool { return len(got) >= 300 && last != nil && last.Running && last.Samples > 0 })
	// A stop from a page is ignored: nothing here holds the lease.
	if err := ws.Write(wctx, websocket.MessageText, []byte(`{"op":"stop"}`)); err != nil {
		t.Fatal(err)
	}
	n := len(got)
	read(func() bool { return len(got) >= n+300 && last.Running })
	if last.NominalHz != 500 || last.Lost != 0 || last.Duplicated != 0 {
		t.Errorf("health %+v: want 500 Hz nominal, nothing lost or duplicated", *last)
	}

	stopView()
	out := <-ran
	if out.err != nil || out.n != 1 || out.samples == 0 || out.lost != 0 {
		t.Fatalf("RunNATS: %d results, %d samples, %d lost, %v", out.n, out.samples, out.lost, out.err)
	}
	if n := sink.n.Load(); n != out.samples {
		t.Errorf("the sink (Foxglove's place) got %d samples of %d", n, out.samples)
	}
	stopBridge()
	stopRec()
	res := <-recDone
	if res == nil {
		t.Fatal("the recorder did not run")
	}

	pointsMatchCSV(t, got, rows.String())
	if len(got) < 600 {
		t.Fatalf("only %d points compared", len(got))
	}
	t.Logf("%d points of the page equal to the recorder's rows; the view read %d samples from NATS, 0 lost", len(got), out.samples)
}

// countSink counts the samples a Sink gets.
type countSink struct{ n atomic.Uint64 }

func (c *countSink) Sample(*telemetry.Header, uint32, *sensor.Sample) { c.n.Add(1) }

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
