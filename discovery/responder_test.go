package discovery

import (
	"net/netip"
	"testing"
)

// TestRecordsBothFamilies: A and AAAA records answer their own questions,
// and an announcement carries both.
func TestRecordsBothFamilies(t *testing.T) {
	r := &Responder{svc: Service{Instance: "pi", Host: "pi", Port: 7600, TXT: []string{"key=none"}},
		ifaces: []iface{{index: 2, addrs: []netip.Addr{netip.MustParseAddr("10.200.0.1")}, v6: true,
			addrs6: []netip.Addr{netip.MustParseAddr("fd00:200::1")}}}}
	count := func(rs []Record) (a, aaaa int) {
		for _, x := range rs {
			switch x.Type {
			case TypeA:
				a++
			case TypeAAAA:
				aaaa++
			}
		}
		return
	}
	for _, c := range []struct {
		name    string
		qs      []Question
		a, aaaa int
	}{
		{"announcement", nil, 1, 1},
		{"A", []Question{{Name: "pi.local", Type: TypeA}}, 1, 0},
		{"AAAA", []Question{{Name: "pi.local", Type: TypeAAAA}}, 0, 1},
		{"ANY", []Question{{Name: "pi.local", Type: TypeANY}}, 1, 1},
		{"SRV: both as additional records", []Question{{Name: "pi._imustream._udp.local", Type: TypeSRV}}, 1, 1},
	} {
		a, aaaa := count(r.records(c.qs, false))
		if a != c.a || aaaa != c.aaaa {
			t.Errorf("%s: %d A and %d AAAA records, want %d and %d", c.name, a, aaaa, c.a, c.aaaa)
		}
	}
}
