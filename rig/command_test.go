package rig

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// One table of spec, packet and what it asks drives the decode tests and
// seeds FuzzParseRigCommand.
var commandGolden = []struct {
	spec string
	pkt  string // hex
	want Action
	err  error
}{
	{DefaultCommand, "00000000010000000000000000000000000000", ActionStart, nil},
	{DefaultCommand, "ffffffff00ffffffffffffffffffffffffffff", ActionStop, nil},
	{DefaultCommand, "00000000020000000000000000000000000000", ActionNone, nil},
	{DefaultCommand, "000000000100000000000000000000000000", ActionNone, ErrWrongLength},
	{DefaultCommand, "0000000001000000000000000000000000000000", ActionNone, ErrWrongLength},
	{"len=8,offset=2,type=u16,start=0x0102,order=be,match=0:4952", "4952010200000000", ActionStart, nil},
	{"len=8,offset=2,type=u16,start=0x0102,order=be,match=0:4952", "4952020100000000", ActionStop, nil},
	{"len=8,offset=2,type=u16,start=0x0102,order=be,match=0:4952", "4953010200000000", ActionNone, ErrNotMatching},
	{"len=4,offset=0,type=f32,start=1,stop=0", "0000803f", ActionStart, nil},
	{"len=4,offset=0,type=f32,start=1,stop=0", "00000080", ActionStop, nil}, // -0 == 0
	{"len=4,offset=0,type=f32,start=1,stop=0", "0000c07f", ActionNone, nil}, // NaN
	{"len=8,offset=0,type=f64,start=-2.5,order=be", "c004000000000000", ActionStart, nil},
	{"len=4,offset=0,type=i32,start=-1,stop=7", "ffffffff", ActionStart, nil},
	{"len=4,offset=0,type=i32,start=-1,stop=7", "07000000", ActionStop, nil},
	{"len=8,offset=0,type=u64,start=1,stop=0", "0100000000000000", ActionStart, nil},
	{"len=8,offset=0,type=u64,start=0,stop=1", "0000000000002000", ActionNone, nil}, // 2^53: beyond exact, no match
	{"len=8,offset=0,type=i64,start=-9007199254740992", "000000000000e0ff", ActionStart, nil},
}

func TestCommandDecode(t *testing.T) {
	for _, g := range commandGolden {
		c, err := ParseCommand(g.spec)
		if err != nil {
			t.Fatalf("%s: %v", g.spec, err)
		}
		pkt, _ := hex.DecodeString(g.pkt)
		act, err := c.Decode(pkt)
		if act != g.want || !errors.Is(err, g.err) {
			t.Errorf("%s: %s: got %v, %v; want %v, %v", g.spec, g.pkt, act, err, g.want, g.err)
		}
		if c2, err := ParseCommand(c.String()); err != nil || c2.String() != c.String() {
			t.Errorf("%s: canonical form %q does not read back: %v", g.spec, c.String(), err)
		}
	}
}

func TestParseCommandErrors(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"", "not key=value"},
		{"len=19,offset=4,type=u8", "start= is required"},
		{"offset=4,type=u8,start=1", "len= is required"},
		{"len=19,type=u8,start=1", "offset= is required"},
		{"len=19,offset=4,start=1", "type= is required"},
		{"len=19,offset=18,type=u16,start=1", "does not fit"},
		{"len=19,offset=4,type=u8,start=256", "not a u8"},
		{"len=19,offset=4,type=u8,start=1,stop=1", "same value"},
		{"len=19,offset=4,type=u8,start=1,len=20", "given twice"},
		{"len=19,offset=4,type=u9,start=1", "type \"u9\""},
		{"len=19,offset=4,type=u8,start=1,order=me", "order \"me\""},
		{"len=19,offset=4,type=u8,start=1,match=18:0102", "does not fit"},
		{"len=19,offset=4,type=u8,start=1,match=1:xyz", "not hex"},
		{"len=19,offset=4,type=u8,start=1,match=1", "OFFSET:HEX"},
		{"len=0,offset=0,type=u8,start=1", "1..1472"},
		{"len=19,offset=4,type=f32,start=0.1", "f32"},
		{"len=19,offset=4,type=f64,start=NaN", "not a number"},
		{"len=19,offset=4,type=u64,start=9007199254740993", "2^53"},
		{"len=19,offset=4,type=u8,start=1,colour=red", "unknown key"},
	} {
		_, err := ParseCommand(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "rig: ") {
			t.Errorf("ParseCommand(%q) = %v, want an error with %q", tc.spec, err, tc.want)
		}
	}
}

func TestDecodeAllocs(t *testing.T) {
	c, _ := ParseCommand("len=19,offset=4,type=u8,start=1,stop=0,match=0:ab")
	pkt := make([]byte, 19)
	pkt[0] = 0xab
	if n := testing.AllocsPerRun(100, func() { _, _ = c.Decode(pkt) }); n != 0 {
		t.Errorf("Decode: %v allocations", n)
	}
}

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		in, from, want string
	}{
		{":9000", "127.0.0.2:40000", "127.0.0.2:9000"},
		{"127.0.0.3:25000", "127.0.0.2:40000", "127.0.0.3:25000"},
		{"[::1]:25000", "127.0.0.2:40000", "[::1]:25000"},
	} {
		tg, err := ParseTarget(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := tg.For(mustAP(tc.from)).String(); got != tc.want {
			t.Errorf("%s from %s: %s, want %s", tc.in, tc.from, got, tc.want)
		}
		if tg.String() != tc.in {
			t.Errorf("String %q, want %q", tg.String(), tc.in)
		}
	}
	for _, bad := range []string{"", ":0", ":x", "host.local:9000", "1.2.3.4", "1.2.3.4:0", "[fe80::1%eth0]:9"} {
		if _, err := ParseTarget(bad); err == nil {
			t.Errorf("ParseTarget(%q) succeeded", bad)
		}
	}
}
