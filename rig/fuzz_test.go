package rig

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzParseRigCommand parses a spec and decodes a packet against it: no
// panic; a spec that parses reads back from its canonical form; a packet
// of the wrong length is ErrWrongLength and nothing else; the action
// agrees with the field's value.
func FuzzParseRigCommand(f *testing.F) {
	for _, g := range commandGolden {
		pkt, _ := hex.DecodeString(g.pkt)
		f.Add(g.spec, pkt)
	}
	f.Fuzz(func(t *testing.T, spec string, pkt []byte) {
		c, err := ParseCommand(spec)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "rig: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		c2, err := ParseCommand(c.String())
		if err != nil || c2.String() != c.String() {
			t.Fatalf("canonical form %q of %q: %v", c.String(), spec, err)
		}
		act, err := c.Decode(pkt)
		if len(pkt) != c.Len {
			if !errors.Is(err, ErrWrongLength) || act != ActionNone {
				t.Fatalf("%d bytes for len=%d: %v, %v", len(pkt), c.Len, act, err)
			}
			return
		}
		if err != nil {
			if !errors.Is(err, ErrNotMatching) || act != ActionNone {
				t.Fatalf("unexpected %v, %v", act, err)
			}
			return
		}
		v, exact := c.value(pkt[c.Offset:])
		switch act {
		case ActionStart:
			if !exact || v != c.Start {
				t.Fatalf("start for value %v (start %v)", v, c.Start)
			}
		case ActionStop:
			if c.HasStop && (!exact || v != c.Stop) {
				t.Fatalf("stop for value %v (stop %v)", v, c.Stop)
			}
		case ActionNone:
			if !c.HasStop {
				t.Fatal("no action without a stop value")
			}
		}
	})
}

// FuzzParseLayout parses a layout spec: no panic; a layout that parses
// reads back from its canonical form, encodes exactly Size bytes (at most
// MaxLayoutLen) at the offsets it declares, and describes itself in every
// format (valid JSON).
func FuzzParseLayout(f *testing.F) {
	for _, g := range layoutGolden {
		f.Add(g.spec, g.seq)
	}
	for name := range Presets {
		f.Add(name, uint32(1))
		f.Add(name+",every=5", uint32(10))
	}
	f.Add("pad:u8,t_wall:f64,mono_ns:u64,late_ns:i32,mx:f32,my:f32,mz:f32,qx:i16,order=be", uint32(0xffffffff))
	f.Fuzz(func(t *testing.T, spec string, seq uint32) {
		l, err := ParseLayout(spec)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "rig: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		l2, err := ParseLayout(l.String())
		if err != nil || l2.String() != l.String() || l2.Size != l.Size {
			t.Fatalf("canonical form %q of %q: %v", l.String(), spec, err)
		}
		if l.Size < 1 || l.Size > MaxLayoutLen || l.Every < 1 {
			t.Fatalf("size %d every %d", l.Size, l.Every)
		}
		off := 0
		for _, fl := range l.Fields {
			if fl.Offset != off {
				t.Fatalf("%s at %d, want %d", fl.Name, fl.Offset, off)
			}
			off += fl.Type.Size()
		}
		if off != l.Size {
			t.Fatalf("fields end at %d, size %d", off, l.Size)
		}
		buf := make([]byte, 3, 3+MaxLayoutLen)
		if b := l.AppendSample(buf, seq, &testSample); len(b) != 3+l.Size {
			t.Fatalf("encoded %d bytes, want %d", len(b)-3, l.Size)
		}
		for _, format := range Formats {
			b, err := l.Describe(format)
			if err != nil {
				t.Fatal(err)
			}
			if format == "json" {
				var j JSONLayout
				if err := json.Unmarshal(b, &j); err != nil || j.Size != l.Size || len(j.Fields) != len(l.Fields) {
					t.Fatalf("json %s: %v", b, err)
				}
			}
		}
	})
}
