package view

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/internal/daemon/daemontest"
	"github.com/imustream/imustream/receiver"
)

// TestViewAgainstDaemon: a real daemon at 1 kHz on loopback, the view's
// page socket read by a WebSocket client: the points it gets are
// samples as a recorder fed the same datagrams wrote them, the stop and
// start buttons stop and start the stream, and nothing is lost.
func TestViewAgainstDaemon(t *testing.T) {
	d, _ := daemontest.Start(t, daemon.Config{RateHz: 1000}, nil)
	v := New(Config{Device: d.Addr().String(), LiveEvery: 100 * time.Millisecond})

	// A recorder beside the view, fed the same datagrams.
	var mu sync.Mutex
	var rows bytes.Buffer
	rec := receiver.NewRecorder(&rows)
	c, err := control.Dial(d.Addr().String(), &control.ClientOptions{Timeout: time.Second, OnData: func(b []byte, from netip.AddrPort) {
		v.Receive(b, from)
		mu.Lock()
		rec.Add(b)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	hs := httptest.NewServer(v.Handler())
	defer hs.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type runOut struct {
		res []*receiver.RecordResult
		err error
	}
	ran := make(chan runOut, 1)
	go func() {
		res, err := v.Run(ctx, c)
		ran <- runOut{res, err}
	}()

	wctx, wcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer wcancel()
	ws, _, err := websocket.Dial(wctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 22)
	got := map[string][]string{} // "session/seq" → ax, az, temp as sent
	var running bool
	var health *struct{ Running bool }
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
				Health       *struct{ Running bool }
			}
			if err := json.Unmarshal(b, &f); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			for i := range f.Seq {
				got[f.Session[i]+"/"+strconv.FormatUint(uint64(f.Seq[i]), 10)] = []string{string(f.Ax[i]), string(f.Az[i]), string(f.Temp[i])}
			}
			if health = f.Health; health != nil {
				running = health.Running
			}
		}
	}
	read(func() bool { return len(got) >= 500 && running })
	ctl := func(op string) {
		if err := ws.Write(wctx, websocket.MessageText, []byte(`{"op":"`+op+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	ctl("stop")
	read(func() bool { return !running })
	n := len(got)
	ctl("start")
	read(func() bool { return running && len(got) > n+200 })
	cancel()
	out := <-ran
	// Two runs, or more if the daemon ended one that a starved test
	// machine did not refresh in time (the view starts it again).
	if out.err != nil || len(out.res) < 2 {
		t.Fatalf("Run: %d results, %v; want 2 runs", len(out.res), out.err)
	}
	for i, r := range out.res {
		if s := r.Summary; s.Lost != 0 || s.Samples == 0 || !s.EndSeen {
			t.Errorf("run %d: %d samples, %d lost, end seen %v", i, s.Samples, s.Lost, s.EndSeen)
		}
	}

	// Every point the page got is a row of the recorder's, same values.
	mu.Lock()
	rec.Flush()
	csvText := rows.String()
	mu.Unlock()
	pointsMatchCSV(t, got, csvText)
	if len(got) < 700 {
		t.Fatalf("only %d points compared", len(got))
	}
	if st := v.Hub().Stats(); st.Dropped != 0 || st.Overflow != 0 {
		t.Errorf("hub stats %+v: a reading page lost frames", st)
	}
}

// pointsMatchCSV checks that every point the page got (keyed
// "session/seq": ax, az, temperature) is the recorder's row in csvText.
func pointsMatchCSV(t *testing.T, got map[string][]string, csvText string) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(csvText)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string][]string{}
	for _, r := range recs[1:] {
		byKey[r[0]+"/"+r[1]] = []string{r[4], r[6], r[10]}
	}
	for k, vals := range got {
		if want, ok := byKey[k]; !ok || strings.Join(want, ",") != strings.Join(vals, ",") {
			t.Fatalf("point %s: page got %v, the recorder wrote %v", k, vals, want)
		}
	}
}

// TestViewDaemonGoesAway: the first start that fails is Run's error; a
// stream the daemon ends is started again, and when that fails the view
// waits for a page's start, which works once a daemon answers again.
func TestViewDaemonGoesAway(t *testing.T) {
	v := New(Config{})
	c, err := control.Dial("127.0.0.1:1", &control.ClientOptions{Timeout: 50 * time.Millisecond, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := v.Run(context.Background(), c); err == nil || res != nil {
		t.Fatalf("Run against nothing: %v, %v; want the start's error", res, err)
	}
	c.Close()

	d, stop := daemontest.Start(t, daemon.Config{}, nil)
	addr := d.Addr().String()
	var mu sync.Mutex
	var restarts, failed int
	v = New(Config{
		OnRestart: func(time.Duration) { mu.Lock(); restarts++; mu.Unlock() },
		OnRun: func(res *receiver.RecordResult, err error) {
			if res == nil && err != nil {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		},
	})
	c, err = control.Dial(addr, &control.ClientOptions{Timeout: 200 * time.Millisecond, OnData: v.Receive})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan []*receiver.RecordResult, 1)
	go func() {
		res, _ := v.Run(ctx, c)
		ran <- res
	}()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	waitFor("samples", func() bool { return v.Hub().Stats().Samples > 50 })
	stop() // the daemon ends the stream and goes away
	waitFor("a restart that fails", func() bool { mu.Lock(); defer mu.Unlock(); return restarts == 1 && failed == 1 })

	daemontest.Start(t, daemon.Config{Listen: addr}, nil)
	n := v.Hub().Stats().Samples
	v.Control(OpStart)
	waitFor("samples from the new daemon", func() bool { return v.Hub().Stats().Samples > n+50 })
	cancel()
	if res := <-ran; len(res) != 2 || res[0].Ending != receiver.EndDaemon || res[1].Ending != receiver.EndStopped {
		t.Fatalf("%d runs; want one the daemon ended and one stopped", len(res))
	}
}
