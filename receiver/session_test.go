package receiver

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// sent records the commands a session sends.
type sent struct {
	mu   sync.Mutex
	cmds []control.Command
	err  error // returned by every send
	on   func(n int, c control.Command)
}

func (s *sent) send(_ context.Context, c control.Command) error {
	s.mu.Lock()
	s.cmds = append(s.cmds, c)
	n, on, err := len(s.cmds), s.on, s.err
	s.mu.Unlock()
	if on != nil {
		on(n, c)
	}
	return err
}

func (s *sent) list() []control.Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]control.Command(nil), s.cmds...)
}

func TestSessionLease(t *testing.T) {
	var s sent
	for _, d := range []time.Duration{0, control.MinLease - 1, control.MaxLease + 1} {
		if _, err := NewSession(s.send, "", d); err == nil {
			t.Errorf("lease %v accepted", d)
		}
	}
}

// Keep refreshes the lease until the stream ends; Stop then has nothing
// to stop.
func TestSessionKeepUntilEnd(t *testing.T) {
	var s sent
	sess, err := NewSession(s.send, ":9000", 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { sess.Keep(context.Background(), nil); close(done) }()
	for len(s.list()) < 4 {
		time.Sleep(10 * time.Millisecond)
	}
	sess.Observe(telemetry.AppendHeader(nil, telemetry.Header{Type: telemetry.TypeSamples}))
	select {
	case <-sess.Ended():
		t.Fatal("a samples datagram ended the session")
	default:
	}
	sess.Observe(telemetry.AppendEnd(nil, 1, 10, 200))
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Keep did not return after the end of stream")
	}
	for i, c := range s.list() {
		if c.Verb != control.VerbStart || c.Target != ":9000" || c.Lease != 300*time.Millisecond {
			t.Errorf("command %d: %+v, want start :9000 lease=300ms", i, c)
		}
	}
	n := len(s.list())
	if err := sess.Stop(context.Background(), time.Second); err != nil {
		t.Errorf("Stop after the end: %v", err)
	}
	if len(s.list()) != n {
		t.Error("Stop sent a command for a stream that had ended")
	}
}

// Stop resends the same stop until the end of stream arrives.
func TestSessionStopWaitsForEnd(t *testing.T) {
	var s sent
	sess, err := NewSession(s.send, "", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s.on = func(n int, c control.Command) {
		if n == 3 { // the third stop gets through
			sess.Observe(telemetry.AppendEnd(nil, 1, 10, 200))
		}
	}
	if err := sess.Stop(context.Background(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	cmds := s.list()
	if len(cmds) != 3 {
		t.Fatalf("%d stops sent, want 3", len(cmds))
	}
	for _, c := range cmds {
		if c.Verb != control.VerbStop || c.ID != cmds[0].ID || c.ID == "" {
			t.Errorf("%+v: want stops with one request id", c)
		}
	}
}

func TestSessionStopErrors(t *testing.T) {
	s := sent{err: errors.New("network down")}
	sess, _ := NewSession(s.send, "", time.Second)
	if err := sess.Stop(context.Background(), 300*time.Millisecond); err == nil || !errors.Is(err, s.err) {
		t.Errorf("Stop with every send failing: %v, want the send error", err)
	}
	s = sent{}
	sess, _ = NewSession(s.send, "", time.Second)
	if err := sess.Stop(context.Background(), 300*time.Millisecond); !errors.Is(err, ErrNoEnd) {
		t.Errorf("Stop without an end: %v, want ErrNoEnd", err)
	}
	refused := &control.ReplyError{Reply: control.Reply{Verb: control.CodeNotSubscribed}}
	s = sent{err: refused}
	sess, _ = NewSession(s.send, "", time.Second)
	if err := sess.Stop(context.Background(), 5*time.Second); !errors.Is(err, refused) || len(s.list()) != 1 {
		t.Errorf("Stop refused by the daemon: %v after %d sends, want the refusal after 1", err, len(s.list()))
	}
}

// An end of stream of an earlier session, arriving after the samples of a
// new one (the daemon restarted the stream), does not end the session.
func TestSessionIgnoresStaleEnd(t *testing.T) {
	var s sent
	sess, _ := NewSession(s.send, "", time.Second)
	sess.Observe(telemetry.AppendDatagram(nil, telemetry.Header{Session: 2, Seq: 0, RateHz: 200}, make([]sensor.Sample, 1)))
	sess.Observe(telemetry.AppendEnd(nil, 1, 10, 200))
	select {
	case <-sess.Ended():
		t.Fatal("the end of an earlier session ended the session")
	default:
	}
	sess.Observe(telemetry.AppendEnd(nil, 2, 1, 200))
	select {
	case <-sess.Ended():
	default:
		t.Fatal("the end of the current session did not end it")
	}
}

// TestStopIDsDiffer: two sessions on one socket send their stops under
// different ids; with one id the daemon's reply cache would answer the
// second stop with the first one's reply and leave the stream running.
func TestStopIDsDiffer(t *testing.T) {
	var s sent
	ids := map[string]bool{}
	for range 2 {
		sess, err := NewSession(s.send, "", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		sess.Stop(context.Background(), 10*time.Millisecond) // one send: no end comes
	}
	for _, c := range s.list() {
		ids[c.ID] = true
	}
	if len(ids) != 2 {
		t.Fatalf("stop ids %v, want two different ones", ids)
	}
}
