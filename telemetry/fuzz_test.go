package telemetry

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/imustream/imustream/sensor"
)

var decodeErrors = []error{ErrShort, ErrMagic, ErrVersion, ErrType, ErrCount, ErrSampleLen, ErrLength}

// FuzzParse feeds Parse arbitrary bytes. Whatever it accepts must survive a
// re-encode (with 56-byte records if it had pressure fields and they fit,
// else 52-byte ones) and parse to the same values, and a datagram of either
// record length must re-encode to the input with its reserved bytes zeroed
// (and the pressure, field and orientation fields that lack their flag),
// header flags and tag kept.
func FuzzParse(f *testing.F) {
	for _, tc := range golden {
		f.Add(mustUnhex(f, tc.hex))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		b = b[:len(b):len(b)] // a read past the end must panic, not see spare capacity
		var d Datagram
		err := Parse(b, &d)
		if err != nil {
			n := 0
			for _, e := range decodeErrors {
				if errors.Is(err, e) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("error %q matches %d of the Err variables, want 1", err, n)
			}
			return
		}
		if !Is(b) {
			t.Fatal("Parse accepted what Is rejects")
		}
		// The spec's rules, restated independently of ParseHeader.
		n, sl := int(d.Count), int(d.SampleLen)
		tag := 0
		if d.Flags&FlagTagged != 0 {
			tag = TagLen
		}
		if d.Version != Version ||
			!(d.Type == TypeSamples && n >= 1 && n <= MaxBatch || d.Type == TypeEnd && n == 0) ||
			sl < SampleLen || len(b) != HeaderLen+n*sl+tag || len(d.Samples) != n || len(d.Tag) != tag ||
			tag > 0 && !bytes.Equal(d.Tag, b[len(b)-TagLen:]) {
			t.Fatalf("accepted a datagram the spec rejects: %+v, %d bytes, %d samples", d.Header, len(b), len(d.Samples))
		}

		var re []byte
		want := d
		switch {
		case d.Type == TypeEnd:
			re = AppendHeader(nil, Header{Type: TypeEnd, Session: d.Session, Seq: d.Seq, RateHz: d.RateHz, Flags: d.Flags})
			want.SampleLen = SampleLen
		case d.SampleLen >= SampleLenMagQuat && n <= MaxBatchMagQuat:
			re = AppendDatagramMagQuat(nil, d.Header, d.Samples)
			want.SampleLen = SampleLenMagQuat
		case d.SampleLen >= SampleLenPressure && n <= MaxBatchPressure:
			re = AppendDatagramPressure(nil, d.Header, d.Samples)
			want.SampleLen = SampleLenPressure
			want.Samples = slices.Clone(d.Samples)
			for i := range want.Samples {
				want.Samples[i].Mag, want.Samples[i].Quat = [3]float32{}, [4]float32{}
			}
		default:
			re = AppendDatagram(nil, d.Header, d.Samples)
			want.SampleLen = SampleLen
			want.Samples = slices.Clone(d.Samples)
			for i := range want.Samples {
				want.Samples[i].PressurePa = 0 // no field to carry it
				want.Samples[i].Mag, want.Samples[i].Quat = [3]float32{}, [4]float32{}
			}
		}
		re = append(re, d.Tag...)
		var d2 Datagram
		if err := Parse(re, &d2); err != nil {
			t.Fatalf("re-encoded datagram does not parse: %v\n%s", err, hex.Dump(re))
		}
		if diff := datagramDiff(&d2, &want); diff != "" {
			t.Fatal(diff)
		}

		if d.SampleLen == want.SampleLen {
			canon := bytes.Clone(b)
			for i := range n {
				off := HeaderLen + i*sl
				clear(canon[off+22 : off+24])
				st := d.Samples[i].Status
				if sl >= SampleLenPressure && st&sensor.StatusPressure == 0 {
					clear(canon[off+52 : off+56])
				}
				if sl >= SampleLenMagQuat && st&sensor.StatusMag == 0 {
					clear(canon[off+56 : off+68])
				}
				if sl >= SampleLenMagQuat && st&sensor.StatusOrientation == 0 {
					clear(canon[off+68 : off+84])
				}
			}
			if !bytes.Equal(re, canon) {
				t.Fatalf("re-encoded\n%s\nwant\n%s", hex.Dump(re), hex.Dump(canon))
			}
		}
	})
}

// FuzzRoundTrip encodes fuzzed field values and checks they decode to the
// same values, floats compared by bits. A batch is built from one sample
// by varying each copy a little.
func FuzzRoundTrip(f *testing.F) {
	for _, tc := range golden {
		if tc.err != nil {
			continue
		}
		h := tc.want.Header
		var s sensor.Sample
		n := uint8(0)
		if len(tc.want.Samples) > 0 {
			s = tc.want.Samples[0]
			n = uint8(len(tc.want.Samples) - 1)
		}
		f.Add(h.Type == TypeEnd, h.Session, h.Seq, h.RateHz, n,
			s.MonoNs, s.WallNs, s.LateNs, uint16(s.Status),
			s.Accel[0], s.Accel[1], s.Accel[2], s.Gyro[0], s.Gyro[1], s.Gyro[2], s.TempC)
	}
	f.Add(false, uint32(1), uint32(2), uint16(3), uint8(4),
		int64(-1), int64(-2), int64(-3), uint16(0x20),
		float32(math.NaN()), float32(math.Inf(1)), float32(math.Copysign(0, -1)),
		math.Float32frombits(0x7f800001), math.Float32frombits(0xffffffff), float32(1e-45), float32(-1e38))

	f.Fuzz(func(t *testing.T, end bool, session, seq uint32, rate uint16, n uint8,
		mono, wall, late int64, status uint16, ax, ay, az, gx, gy, gz, temp float32) {
		h := Header{Version: Version, Type: TypeSamples, SampleLen: SampleLen, Session: session, Seq: seq, RateHz: rate}
		var samples []sensor.Sample
		var b []byte
		if end {
			h.Type = TypeEnd
			b = AppendEnd(nil, session, seq, rate)
		} else {
			samples = make([]sensor.Sample, int(n)%MaxBatch+1)
			for i := range samples {
				k := uint32(i)
				samples[i] = sensor.Sample{
					MonoNs: mono + int64(i)*5_000_000,
					WallNs: wall + int64(i)*5_000_000,
					LateNs: late + int64(i),
					Status: sensor.Status(status ^ uint16(i)),
					Accel:  [3]float32{flipBits(ax, k), flipBits(ay, k), flipBits(az, k)},
					Gyro:   [3]float32{flipBits(gx, k), flipBits(gy, k), flipBits(gz, k)},
					TempC:  flipBits(temp, k),
				}
			}
			h.Count = uint8(len(samples))
			b = AppendDatagram(nil, h, samples)
		}
		if len(b) != HeaderLen+len(samples)*SampleLen {
			t.Fatalf("encoded %d bytes for %d samples", len(b), len(samples))
		}

		var d Datagram
		if err := Parse(b, &d); err != nil {
			t.Fatalf("Parse: %v\n%s", err, hex.Dump(b))
		}
		want := Datagram{Header: h, Samples: samples}
		for i := range want.Samples {
			want.Samples[i].LateNs = min(max(want.Samples[i].LateNs, 0), math.MaxUint32)
		}
		if diff := datagramDiff(&d, &want); diff != "" {
			t.Fatal(diff)
		}
	})
}

// flipBits varies the low mantissa bits, NaN payloads included.
func flipBits(v float32, k uint32) float32 {
	return math.Float32frombits(math.Float32bits(v) ^ k)
}

// FuzzRoundTripPressure encodes batches of 56-byte records with fuzzed
// pressures and flags: the pressure comes back when its flag is set, 0
// when not.
func FuzzRoundTripPressure(f *testing.F) {
	f.Add(uint8(0), uint16(sensor.StatusPressure), float32(101325))
	f.Add(uint8(20), uint16(0xffff), float32(math.NaN()))
	f.Add(uint8(3), uint16(sensor.StatusLate), float32(-1))
	f.Fuzz(func(t *testing.T, n uint8, status uint16, pa float32) {
		samples := make([]sensor.Sample, int(n)%MaxBatchPressure+1)
		for i := range samples {
			samples[i] = sampleOne
			samples[i].Status = sensor.Status(status ^ uint16(i<<5)) // alternate the pressure flag
			samples[i].PressurePa = flipBits(pa, uint32(i))
		}
		b := AppendDatagramPressure(nil, hdrOneWant, samples)
		if len(b) != HeaderLen+len(samples)*SampleLenPressure {
			t.Fatalf("encoded %d bytes for %d samples", len(b), len(samples))
		}
		var d Datagram
		if err := Parse(b, &d); err != nil {
			t.Fatalf("Parse: %v\n%s", err, hex.Dump(b))
		}
		want := Datagram{Header: hdrOneWant, Samples: samples}
		want.Count, want.SampleLen = uint8(len(samples)), SampleLenPressure
		for i := range want.Samples {
			if want.Samples[i].Status&sensor.StatusPressure == 0 {
				want.Samples[i].PressurePa = 0
			}
		}
		if diff := datagramDiff(&d, &want); diff != "" {
			t.Fatal(diff)
		}
	})
}
