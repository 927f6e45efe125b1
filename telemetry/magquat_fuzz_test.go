package telemetry

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math"
	"testing"

	"github.com/imustream/imustream/sensor"
)

// FuzzParseMagQuat feeds Parse well-formed headers over arbitrary records
// of 84 to 99 bytes, so that every input reaches the record decoder. The
// field and orientation must be read exactly when their flags are set and
// be zero otherwise, and the records must re-encode to their first 84
// bytes with the reserved bytes and the unflagged fields cleared.
func FuzzParseMagQuat(f *testing.F) {
	for _, tc := range golden {
		if tc.magQuat {
			b := mustUnhex(f, tc.hex)
			f.Add(uint8(len(tc.want.Samples)-1), uint8(0), b[HeaderLen:])
		}
	}
	f.Add(uint8(0), uint8(4), bytes.Repeat([]byte{0xff}, 88))
	f.Add(uint8(1), uint8(0), make([]byte, 2*84))
	f.Fuzz(func(t *testing.T, count, extra uint8, recs []byte) {
		n := 1 + int(count)%MaxBatchMagQuat
		sl := SampleLenMagQuat + int(extra)%16
		body := make([]byte, n*sl)
		copy(body, recs)
		b := AppendHeader(nil, Header{Type: TypeSamples, Count: uint8(n), SampleLen: uint8(sl), Session: 1, Seq: 2, RateHz: 200})
		b = append(b, body...)
		var d Datagram
		if err := Parse(b, &d); err != nil {
			t.Fatalf("well-formed datagram refused: %v", err)
		}
		canon := make([]byte, 0, n*SampleLenMagQuat)
		for i := range n {
			rec := body[i*sl : i*sl+SampleLenMagQuat]
			s := &d.Samples[i]
			st := sensor.Status(binary.LittleEndian.Uint16(rec[20:]))
			if s.Status != st {
				t.Fatalf("status %#x, want %#x", s.Status, st)
			}
			for k := range 4 {
				var wm, wq uint32
				if k < 3 && st&sensor.StatusMag != 0 {
					wm = binary.LittleEndian.Uint32(rec[56+4*k:])
				}
				if st&sensor.StatusOrientation != 0 {
					wq = binary.LittleEndian.Uint32(rec[68+4*k:])
				}
				if k < 3 && math.Float32bits(s.Mag[k]) != wm || math.Float32bits(s.Quat[k]) != wq {
					t.Fatalf("sample %d: mag %v quat %v from\n%s", i, s.Mag, s.Quat, hex.Dump(rec))
				}
			}
			c := bytes.Clone(rec)
			clear(c[22:24])
			if st&sensor.StatusPressure == 0 {
				clear(c[52:56])
			}
			if st&sensor.StatusMag == 0 {
				clear(c[56:68])
			}
			if st&sensor.StatusOrientation == 0 {
				clear(c[68:84])
			}
			canon = append(canon, c...)
		}
		re := AppendDatagramMagQuat(nil, d.Header, d.Samples)
		if !bytes.Equal(re[HeaderLen:], canon) {
			t.Fatalf("re-encoded\n%s\nwant\n%s", hex.Dump(re[HeaderLen:]), hex.Dump(canon))
		}
	})
}
