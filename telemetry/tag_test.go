package telemetry

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/imustream/imustream/sensor"
)

// The test vector of docs/protocol.md ("Authentication tag"): key 00..1f,
// nonce 00..0f, the end-of-stream datagram of session 1, seq 5, 200 Hz.
func TestTagVector(t *testing.T) {
	key, nonce := make([]byte, 32), make([]byte, NonceLen)
	for i := range key {
		key[i] = byte(i)
	}
	for i := range nonce {
		nonce[i] = byte(i)
	}
	k := StreamKey(key, nonce)
	tg := NewTagger(k)
	b := tg.Append(AppendEnd(make([]byte, 0, HeaderLen+TagLen), 1, 5, 200))
	vec := docVector(t)
	if got := hex.EncodeToString(k[:]); got != vec["stream key"] {
		t.Errorf("stream key %s, docs say %s", got, vec["stream key"])
	}
	if got := hex.EncodeToString(b); got != vec["tagged end"] {
		t.Errorf("tagged end %s, docs say %s", got, vec["tagged end"])
	}
	var d Datagram
	if err := Parse(b, &d); err != nil || d.Flags&FlagTagged == 0 || !bytes.Equal(d.Tag, b[HeaderLen:]) {
		t.Errorf("Parse: %v, %+v", err, d)
	}
	if !tg.Verify(b) {
		t.Error("its own tag does not verify")
	}
}

// docVector reads the "name: hex" lines of the tag's test vector block.
func docVector(t *testing.T) map[string]string {
	t.Helper()
	lines := docExample(t, "../docs/protocol.md", "<!-- tag test vector -->")
	m := map[string]string{}
	for _, l := range lines {
		if k, v, ok := bytes.Cut([]byte(l), []byte(": ")); ok {
			m[string(k)] = string(bytes.ReplaceAll(v, []byte(" "), nil))
		}
	}
	return m
}

// Every byte counts: a flipped bit anywhere, the tag of another stream, or
// the flag cleared fails; nothing allocates.
func TestTagChecks(t *testing.T) {
	a := NewTagger(StreamKey([]byte("k"), []byte("nonce-a")))
	other := NewTagger(StreamKey([]byte("k"), []byte("nonce-b")))
	s := sensor.Sample{MonoNs: 1, Accel: [3]float32{1, 2, 3}}
	b := AppendDatagram(make([]byte, 0, MaxDatagramLen+TagLen), Header{Type: TypeSamples, Session: 9, Seq: 3, RateHz: 200}, []sensor.Sample{s, s})
	b = a.Append(b)
	if !a.Verify(b) || other.Verify(b) {
		t.Fatalf("verify: own %v, other stream's %v", a.Verify(b), other.Verify(b))
	}
	for i := range len(b) * 8 {
		c := bytes.Clone(b)
		c[i/8] ^= 1 << (i % 8)
		if a.Verify(c) {
			t.Fatalf("bit %d flipped still verifies", i)
		}
	}
	if a.Verify(b[:len(b)-1]) || a.Verify(b[:10]) {
		t.Error("a cut datagram verifies")
	}
	u := bytes.Clone(b)
	SetTagged(u, false)
	if a.Verify(u) {
		t.Error("the flag cleared still verifies")
	}
	fresh := AppendDatagram(make([]byte, 0, MaxDatagramLen+TagLen), Header{Type: TypeSamples, Session: 9, Seq: 3, RateHz: 200}, []sensor.Sample{s})
	if n := testing.AllocsPerRun(100, func() {
		fresh = a.Append(fresh[:len(fresh):cap(fresh)][:HeaderLen+SampleLen])
		_ = a.Verify(fresh)
	}); n != 0 {
		t.Errorf("%v allocations per tag and check, want 0", n)
	}
}

// FuzzTag: whatever the key, nonce and bytes, a tagged datagram verifies,
// the same bytes with any bit flipped do not, and Verify survives anything.
func FuzzTag(f *testing.F) {
	f.Add([]byte("key"), []byte("0123456789abcdef"), AppendEnd(nil, 1, 2, 3), uint16(7))
	f.Add([]byte{}, []byte{}, []byte("IMUS"), uint16(0))
	f.Fuzz(func(t *testing.T, key, nonce, b []byte, flip uint16) {
		tg := NewTagger(StreamKey(key, nonce))
		_ = tg.Verify(b)
		var d Datagram
		_ = Parse(b, &d)
		if len(b) < HeaderLen {
			return
		}
		tagged := tg.Append(bytes.Clone(b))
		if !tg.Verify(tagged) {
			t.Fatalf("%x does not verify under its own tag", tagged)
		}
		i := int(flip) % (len(tagged) * 8)
		tagged[i/8] ^= 1 << (i % 8)
		if tg.Verify(tagged) {
			t.Fatalf("bit %d flipped still verifies", i)
		}
	})
}

func BenchmarkTag(b *testing.B) {
	tg := NewTagger(StreamKey([]byte("k"), []byte("n")))
	d := AppendDatagram(make([]byte, 0, MaxDatagramLen+TagLen), Header{Type: TypeSamples, RateHz: 200}, make([]sensor.Sample, 1))
	n := len(d)
	b.ReportAllocs()
	for range b.N {
		d = tg.Append(d[:n])
	}
}
