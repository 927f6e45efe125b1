package discovery

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func sampleAnswer() *Msg {
	return &Msg{Response: true, Records: []Record{
		{Name: "_imustream._udp.local", Type: TypePTR, TTL: 4500, PTR: "pi-3._imustream._udp.local"},
		{Name: "pi-3._imustream._udp.local", Type: TypeSRV, Flush: true, TTL: 120, SRV: SRV{Port: 7600, Target: "pi-3.local"}},
		{Name: "pi-3._imustream._udp.local", Type: TypeTXT, Flush: true, TTL: 4500, TXT: []string{"version=v1", "rate=200", "key=none"}},
		{Name: "pi-3.local", Type: TypeA, Flush: true, TTL: 120, Addr: netip.MustParseAddr("10.200.0.1")},
	}}
}

func TestRoundTrip(t *testing.T) {
	m := sampleAnswer()
	b, err := AppendMsg(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseMsg(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, m)
	}
	q := &Msg{ID: 7, Questions: []Question{{Name: "_imustream._udp.local", Type: TypePTR, Unicast: true}}}
	b, err = AppendMsg(nil, q)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ParseMsg(b); err != nil || !reflect.DeepEqual(got, q) {
		t.Fatalf("question: %+v %v", got, err)
	}
}

// A response as avahi writes it, with compressed names: the PTR's
// target and the SRV's name point back into the message.
func TestParseCompressed(t *testing.T) {
	h := strings.Join([]string{
		"0000 8400 0000 0002 0000 0000",
		// _imustream._udp.local PTR, at offset 12
		"0a5f696d7573747265616d 045f756470 056c6f63616c 00", "000c 0001 00001194 0007",
		"04 70692d33 c00c",                // pi-3 + pointer to 12; this name is at offset 45
		"c02d 0021 8001 00000078 000d",    // pointer to 45: SRV
		"0000 0000 1db0 04 70692d33 c01c", // port 7600, target pi-3 + pointer to "local" (offset 28)
	}, "")
	b, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseMsg(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Records) != 2 || m.Records[0].PTR != "pi-3._imustream._udp.local" || m.Records[1].Name != "pi-3._imustream._udp.local" ||
		m.Records[1].SRV != (SRV{Port: 7600, Target: "pi-3.local"}) || !m.Records[1].Flush {
		t.Fatalf("%+v", m.Records)
	}
}

func TestParseBad(t *testing.T) {
	good, _ := AppendMsg(nil, sampleAnswer())
	loop := append([]byte{0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}, 0xc0, 12, 0, 1, 0, 1)
	forward := append([]byte{0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}, 0xc0, 20, 0, 1, 0, 1, 0, 0, 0, 0)
	for name, b := range map[string][]byte{
		"short": good[:11], "truncated": good[:len(good)-1], "pointer to itself": loop, "pointer forward": forward,
		"many questions": {0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0},
	} {
		if _, err := ParseMsg(b); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	if _, err := AppendMsg(nil, &Msg{Questions: []Question{{Name: strings.Repeat("a", 64) + ".local"}}}); !errors.Is(err, ErrName) {
		t.Errorf("a 64-byte label: %v", err)
	}
}

// FuzzParseMsg: any bytes parse or fail, never panic; what parses and
// can be written again parses to the same message.
func FuzzParseMsg(f *testing.F) {
	b, _ := AppendMsg(nil, sampleAnswer())
	f.Add(b)
	q, _ := AppendMsg(nil, &Msg{ID: 7, Questions: []Question{{Name: "pi-3.local", Type: TypeA}}})
	f.Add(q)
	f.Add([]byte{0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMsg(b)
		if err != nil {
			return
		}
		out, err := AppendMsg(nil, m)
		if err != nil {
			return // e.g. a record type we do not write, or an empty label
		}
		m2, err := ParseMsg(out)
		if err != nil {
			t.Fatalf("our own encoding does not parse: %v", err)
		}
		m.ID, m2.ID = 0, 0
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", m, m2)
		}
	})
}
