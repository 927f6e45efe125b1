package control_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/rt"
)

// A time exchange with a real server on loopback: device and client share
// the clocks, so the offset is within the round trip of zero and every
// stamp lies between the client's send and receive.
func TestTimeExchange(t *testing.T) {
	k := control.Key{1, 2, 3}
	for _, key := range []*control.Key{nil, &k} {
		srv, conn := running(t, control.ServerConfig{Stream: &fakeStream{}, Key: key})
		c := dialClient(t, conn.LocalAddr().String(), control.ClientOptions{Key: key, From: "pc", Timeout: 5 * time.Second})
		for i := range 20 {
			s, err := c.Time(context.Background())
			if err != nil {
				t.Fatalf("key %v exchange %d: %v", key != nil, i, err)
			}
			d := s.Device
			if !(s.Sent <= d.Rx && d.Rx <= d.Tx && d.Tx <= s.Received) {
				t.Fatalf("stamps out of order: sent %d rx %d tx %d received %d", s.Sent, d.Rx, d.Tx, s.Received)
			}
			if !(s.SentWall <= d.RxWall+int64(time.Millisecond) && d.TxWall <= s.ReceivedWall+int64(time.Millisecond)) {
				t.Fatalf("wall stamps out of order: %+v", s)
			}
			if off, rtt := s.Offset(), s.RTT(); rtt < 0 || off < -rtt || off > rtt {
				t.Fatalf("offset %d ns outside ±RTT %d ns on one clock", off, rtt)
			}
		}
		// Time is never answered from the reply cache: each exchange of a
		// command with the same id reads the clocks anew.
		if key != nil {
			continue // an unsigned time gets no reply from a daemon with a key
		}
		ask1 := ask(t, conn.LocalAddr(), "id=same time\n")
		ask2 := ask(t, conn.LocalAddr(), "id=same time\n")
		d1, err1 := control.ParseTimeReply(ask1)
		d2, err2 := control.ParseTimeReply(ask2)
		if err1 != nil || err2 != nil || d2.Rx <= d1.Rx {
			t.Errorf("repeated id: %+v %v, then %+v %v; want fresh clocks", d1, err1, d2, err2)
		}
		if r := srv.Counters(); r.Repeated != 0 {
			t.Errorf("%d time commands answered from the cache", r.Repeated)
		}
	}
}

// With a key, a time reply signed with another key is not taken.
func TestTimeForgedReply(t *testing.T) {
	k1, k2 := control.Key{1}, control.Key{2}
	_, conn := running(t, control.ServerConfig{Stream: &fakeStream{}, Key: &k2})
	c := dialClient(t, conn.LocalAddr().String(), control.ClientOptions{Key: &k1, From: "pc", Timeout: 300 * time.Millisecond})
	_, err := c.Time(context.Background())
	if !errors.Is(err, control.ErrNoReply) {
		t.Fatalf("time with the wrong key: %v, want no reply", err)
	}
}

func TestParseTimeReply(t *testing.T) {
	now, wall := rt.Stamp()
	ok := control.DeviceTimes{Rx: now, Tx: now + 1000, RxWall: wall, TxWall: wall + 1000}
	good := control.Reply{OK: true, Verb: control.VerbTime, Fields: ok.Fields()}
	if d, err := control.ParseTimeReply(good); err != nil || d != ok {
		t.Fatalf("%v: %+v %v", good, d, err)
	}
	// The wire form round-trips through ParseReply, extra fields ignored.
	r, err := control.ParseReply([]byte(strings.TrimSuffix(good.String(), "\n") + " future=1\n"))
	if d, err2 := control.ParseTimeReply(r); err != nil || err2 != nil || d != ok {
		t.Fatalf("round trip: %+v %v %v", d, err, err2)
	}
	for _, bad := range []string{
		"ok time rx=1 tx=2 rx_wall=3",
		"ok time rx=1 tx=2 rx_wall=3 tx_wall=4 rx=1",
		"ok time rx=2 tx=1 rx_wall=3 tx_wall=4",
		"ok time rx=1 tx=2000000002 rx_wall=3 tx_wall=4",
		"ok time rx=1 tx=2 rx_wall=3000000000 tx_wall=4",
		"ok time rx=-1 tx=2 rx_wall=3 tx_wall=4",
		"ok time rx=+1 tx=2 rx_wall=3 tx_wall=4",
		"ok time rx=0 tx=2 rx_wall=3 tx_wall=4",
		"ok time rx=1x tx=2 rx_wall=3 tx_wall=4",
		"ok time rx=1 tx=99999999999999999999 rx_wall=3 tx_wall=4",
		"ok ping rx=1 tx=2 rx_wall=3 tx_wall=4",
		"err time rx=1 tx=2 rx_wall=3 tx_wall=4",
	} {
		r, err := control.ParseReply([]byte(bad))
		if err != nil {
			continue
		}
		if d, err := control.ParseTimeReply(r); !errors.Is(err, control.ErrBadTime) {
			t.Errorf("%q: %+v, %v; want ErrBadTime", bad, d, err)
		}
	}
}

// The time verb takes no arguments, like ping.
func TestParseTimeCommand(t *testing.T) {
	if c, err := control.ParseCommand([]byte("id=1 time\n")); err != nil || c.Verb != control.VerbTime {
		t.Fatalf("%+v %v", c, err)
	}
	for _, bad := range []string{"time now", "time lease=1s", "time pad=x"} {
		if _, err := control.ParseCommand([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
