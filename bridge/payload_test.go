package bridge

import (
	"errors"
	"net/http"
	"testing"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

func datagram(session, seq uint32, n int) []byte {
	s := make([]sensor.Sample, n)
	for i := range s {
		s[i].MonoNs = int64(seq+uint32(i)) * 5e6
	}
	return telemetry.AppendDatagram(nil, telemetry.Header{Type: telemetry.TypeSamples, Session: session, Seq: seq, RateHz: 200}, s)
}

func headers(device, session, seq string) func(string) string {
	h := http.Header{}
	for k, v := range map[string]string{HeaderDevice: device, HeaderSession: session, HeaderSeq: seq} {
		if v != "" {
			h.Set(k, v)
		}
	}
	return h.Get
}

func TestEach(t *testing.T) {
	a, b := datagram(0x7a3f19c2, 1000, 1), datagram(0x7a3f19c2, 1001, 3)
	end := telemetry.AppendEnd(nil, 0x7a3f19c2, 1004, 200)
	payload := append(append(append([]byte{}, a...), b...), end...)
	m, err := ParseMeta(headers("pi-1", "7a3f19c2", "1000"))
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint32
	if err := Each(m, payload, func(dg []byte, h telemetry.Header) { seqs = append(seqs, h.Seq) }); err != nil {
		t.Fatal(err)
	}
	if len(seqs) != 3 || seqs[0] != 1000 || seqs[1] != 1001 || seqs[2] != 1004 {
		t.Fatalf("seqs %v, want [1000 1001 1004]", seqs)
	}
	bad := []struct {
		name    string
		m       Meta
		payload []byte
		want    error
	}{
		{"empty", m, nil, ErrPayload},
		{"truncated", m, payload[:len(payload)-1], ErrPayload},
		{"trailing byte", m, append(append([]byte{}, payload...), 0), ErrPayload},
		{"other session", Meta{Device: "pi-1", Session: 1, Seq: 1000}, payload, ErrMismatch},
		{"other seq", Meta{Device: "pi-1", Session: 0x7a3f19c2, Seq: 999}, payload, ErrMismatch},
		{"a gap inside", m, append(append([]byte{}, a...), datagram(0x7a3f19c2, 1002, 1)...), ErrMismatch},
	}
	for _, c := range bad {
		called := false
		err := Each(c.m, c.payload, func([]byte, telemetry.Header) { called = true })
		if !errors.Is(err, c.want) || called {
			t.Errorf("%s: err %v (called %v), want %v and no datagram", c.name, err, called, c.want)
		}
	}
}

func TestParseMeta(t *testing.T) {
	for _, c := range []struct{ device, session, seq string }{
		{"", "7a3f19c2", "1"}, {"a.b", "7a3f19c2", "1"}, {"pi", "7a3f19c", "1"}, {"pi", "7a3f19cg", "1"},
		{"pi", "7a3f19c2", ""}, {"pi", "7a3f19c2", "01"}, {"pi", "7a3f19c2", "-1"}, {"pi", "7a3f19c2", "4294967296"},
		{"pi", "7a3f19c2", "+1"},
	} {
		if _, err := ParseMeta(headers(c.device, c.session, c.seq)); !errors.Is(err, ErrHeader) {
			t.Errorf("%q %q %q: err %v, want ErrHeader", c.device, c.session, c.seq, err)
		}
	}
	m, err := ParseMeta(headers("pi_1-x", "FFFFFFFF", "4294967295"))
	if err != nil || m.Session != 0xffffffff || m.Seq != 0xffffffff {
		t.Fatalf("%+v %v", m, err)
	}
}

func TestNames(t *testing.T) {
	if got := NameFor("pi-3.local:7600"); got != "pi-3_local_7600" {
		t.Errorf("NameFor: %q", got)
	}
	for _, s := range []string{"", "a b", "a.b", "a*", "a>", string(make([]byte, 65))} {
		if CheckName(s) == nil {
			t.Errorf("CheckName(%q) accepted", s)
		}
	}
	d, err := ParseDevice("lab=127.0.0.1:7600")
	if err != nil || d.Name != "lab" || d.Addr != "127.0.0.1:7600" {
		t.Errorf("ParseDevice: %+v %v", d, err)
	}
	if _, err := ParseDevice("a.b=127.0.0.1"); err == nil {
		t.Error("ParseDevice took a name with a dot")
	}
}

// FuzzEach: any headers and payload give an error or datagrams that
// continue each other from the headers' seq, each one that telemetry
// parses; never a panic.
func FuzzEach(f *testing.F) {
	a, b := datagram(0x7a3f19c2, 1000, 1), datagram(0x7a3f19c2, 1001, 3)
	f.Add("pi-1", "7a3f19c2", "1000", append(append([]byte{}, a...), b...))
	f.Add("pi-1", "7a3f19c2", "1004", telemetry.AppendEnd(nil, 0x7a3f19c2, 1004, 200))
	f.Add("x", "00000000", "0", []byte("IMUS"))
	f.Fuzz(func(t *testing.T, device, session, seq string, payload []byte) {
		m, err := ParseMeta(headers(device, session, seq))
		if err != nil {
			return
		}
		next := m.Seq
		var dg telemetry.Datagram
		_ = Each(m, payload, func(b []byte, h telemetry.Header) {
			if h.Session != m.Session || h.Seq != next {
				t.Fatalf("datagram %08x/%d, want %08x/%d", h.Session, h.Seq, m.Session, next)
			}
			if err := telemetry.Parse(b, &dg); err != nil {
				t.Fatalf("Each handed out a datagram telemetry rejects: %v", err)
			}
			next += uint32(h.Count)
		})
	})
}
