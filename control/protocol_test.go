package control

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		in   string
		want Command
		err  error
	}{
		{"start\n", Command{Verb: "start"}, nil},
		{"start", Command{Verb: "start"}, nil},
		{"START\r\n", Command{Verb: "start"}, nil},
		{"id=42 start lease=5s", Command{ID: "42", Verb: "start", Lease: 5 * time.Second}, nil},
		{"start :9000 lease=2.5", Command{Verb: "start", Target: ":9000", Lease: 2500 * time.Millisecond}, nil},
		{"start [::1]:9000 id=x.y-z_1", Command{ID: "x.y-z_1", Verb: "start", Target: "[::1]:9000"}, nil},
		{"start pc.local:9000", Command{Verb: "start", Target: "pc.local:9000"}, nil},
		{"stop all", Command{Verb: "stop", Target: "all"}, nil},
		{"  stop\t\n", Command{Verb: "stop"}, nil},
		{"status", Command{Verb: "status"}, nil},
		{"id=7 ping", Command{ID: "7", Verb: "ping"}, nil},
		{"", Command{}, ErrEmpty},
		{"\n", Command{}, ErrEmpty},
		{"id=3", Command{}, ErrEmpty},
		{"frobnicate", Command{}, ErrUnknown},
		{"start a:1 b:2", Command{}, ErrBadArg},
		{"start all", Command{}, ErrBadArg},
		{"start lease=abc", Command{}, ErrBadArg},
		{"start lease=1ms", Command{}, ErrBadArg},
		{"start lease=48h", Command{}, ErrBadArg},
		{"start color=red", Command{}, ErrBadArg},
		{"stop lease=5s", Command{}, ErrBadArg},
		{"status now", Command{}, ErrBadArg},
		{"ping lease=1s", Command{}, ErrBadArg},
		{"id= start", Command{}, ErrBadArg},
		{"id=" + strings.Repeat("a", 33) + " start", Command{}, ErrBadArg},
		{"id=a/b start", Command{}, ErrBadArg},
		{"start\x00", Command{}, ErrNotText},
		{"\xff\xfe", Command{}, ErrNotText},
		{strings.Repeat("x", MaxCommandLen+1), Command{}, ErrTooLong},
	}
	for _, tt := range tests {
		got, err := ParseCommand([]byte(tt.in))
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("ParseCommand(%q) error = %v, want %v", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseCommand(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestCommandStringRoundTrip(t *testing.T) {
	for _, c := range []Command{
		{Verb: "start"},
		{ID: "ab-1", Verb: "start", Target: "[fe80::1]:9000", Lease: 1500 * time.Millisecond},
		{Verb: "stop", Target: "all"},
		{ID: "z", Verb: "status"},
	} {
		got, err := ParseCommand([]byte(c.String() + "\n"))
		if err != nil || got != c {
			t.Errorf("round trip of %+v via %q = %+v, %v", c, c.String(), got, err)
		}
	}
}

func TestReplyRoundTrip(t *testing.T) {
	for _, r := range []Reply{
		{OK: true, Verb: "start", Fields: []Field{{"to", "127.0.0.1:5000"}, {"lease", "5s"}}},
		{OK: true, ID: "9", Verb: "status", Fields: []Field{{"to", ""}, {"state", "idle"}}},
		{OK: true, Verb: "ping", Fields: nil},
		{ID: "x", Verb: CodeUnknownCommand, Message: `unknown command "frob" (want start)`},
	} {
		s := r.String()
		if !strings.HasSuffix(s, "\n") {
			t.Errorf("%q: reply must end in a newline for nc", s)
		}
		got, err := ParseReply([]byte(s))
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Errorf("ParseReply(%q) = %+v, %v; want %+v", s, got, err, r)
		}
	}
	for _, bad := range []string{"", "ok", "hello there", "ok id=1", "ok start novalue", "ok\x00 x"} {
		if _, err := ParseReply([]byte(bad)); !errors.Is(err, ErrBadReply) {
			t.Errorf("ParseReply(%q) error = %v, want ErrBadReply", bad, err)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"start\n", "id=1 start :9000 lease=5s", "stop all", "status", "ping", "start [::1]:1", "\xff",
		"id=h hello pad=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", "start lease=1m30s nonce=000102030405060708090a0b0c0d0e0f from=pc ts=5 boot=0123456789abcdef",
		"start [fe80::1%eth0]:9000 lease=2.5", "stop\nall", "start lease=1h1h", "ok ping"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCommand(b)
		if err != nil {
			return
		}
		// Whatever parses must survive its own formatting.
		again, err := ParseCommand([]byte(c.String()))
		if err != nil || again != c {
			t.Fatalf("%q parsed to %+v, which formats to %q and parses to %+v, %v", b, c, c.String(), again, err)
		}
	})
}

// One command per datagram, closed by at most one line end, and strict
// durations: "stop\nall" ran stop all, "1h1h" was 2 h, "1_000" 1000 s.
func TestParseStrict(t *testing.T) {
	for _, bad := range []string{
		"stop\nall", "start\n:9000", "ping\n\n", "ping\r", "start\r:9000",
		"start lease=1_000", "start lease=1h1h", "start lease=5s5s", "start lease=-5s",
		"start lease=1e3", "start lease=+5s", "start lease=.5", "start lease=5.", "start lease=5x",
		"start lease=1s500", "start lease=500ms1s",
	} {
		if c, err := ParseCommand([]byte(bad)); err == nil {
			t.Errorf("%q parsed as %+v", bad, c)
		}
	}
	for in, lease := range map[string]time.Duration{
		"start lease=5\n": 5 * time.Second, "start lease=2.5\r\n": 2500 * time.Millisecond,
		"start lease=1m30s": 90 * time.Second, "start lease=1500ms": 1500 * time.Millisecond,
		"start lease=1h": time.Hour, "start\tlease=200ms": 200 * time.Millisecond,
	} {
		c, err := ParseCommand([]byte(in))
		if err != nil || c.Lease != lease {
			t.Errorf("%q: %+v %v, want lease %v", in, c, err, lease)
		}
	}
	// A signature closed by a lone \r is not a signature.
	if _, _, err := SplitSigned([]byte("ping from=a ts=1 sig=00112233445566778899aabbccddeeff\r")); err == nil {
		t.Error("a lone \\r after sig= accepted")
	}
	if _, _, err := SplitSigned([]byte("ping from=a ts=1 sig=00112233445566778899aabbccddeeff\r\n")); err != nil {
		t.Errorf("\\r\\n after sig=: %v", err)
	}
}

func TestIsReply(t *testing.T) {
	for in, want := range map[string]bool{
		"ok ping version=1": true, "err full": true, "id=3 err bad-request": true, "ERR x": true,
		"start": false, "id=ok start": false, "okay": false, "": false, "id=3": false,
	} {
		if got := IsReply([]byte(in)); got != want {
			t.Errorf("IsReply(%q) = %v, want %v", in, got, want)
		}
	}
}
