package rig

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/imustream/imustream/sensor"
)

var testSample = sensor.Sample{
	MonoNs: 12345678900000, WallNs: 1767225600123456789, LateNs: 1800000,
	Accel: [3]float32{0.125, -0.25, 9.80665}, Gyro: [3]float32{0.5, -1, 2},
	TempC: 25.5, PressurePa: 101325, Mag: [3]float32{20, -5, 40}, Quat: [4]float32{1, 0, 0, 0},
	Status: sensor.StatusLate | sensor.StatusPressure,
}

// Golden encodings: spec, seq, bytes (hex).
var layoutGolden = []struct {
	spec string
	seq  uint32
	hex  string
}{
	{"seq:u32,ax:f32,flags:u16", 1000, "e8030000" + "0000003e" + "2200"},
	{"seq:u32,ax:f32,flags:u16,order=be", 1000, "000003e8" + "3e000000" + "0022"},
	{"seq:u16,pad:u8,az:i16,gy:i8,temp:u8", 0x12345, "4523" + "00" + "0a00" + "ff" + "1a"},
	{"late_ns:u32,mono_ns:i64", 0, "40771b00" + "202bce733a0b0000"},
	{"ax:u8,ay:u8,gx:i8", 0, "00" + "00" + "01"}, // 0.125 → 0, -0.25 → 0 (saturated), 0.5 → 1 (half away from zero)
	{"pressure:f32,qw:f32", 0, "80e6c547" + "0000803f"},
}

func TestLayoutEncode(t *testing.T) {
	for _, g := range layoutGolden {
		l, err := ParseLayout(g.spec)
		if err != nil {
			t.Fatalf("%s: %v", g.spec, err)
		}
		got := hex.EncodeToString(l.AppendSample([]byte("x"), g.seq, &testSample)[1:])
		if got != g.hex {
			t.Errorf("%s: %s, want %s", g.spec, got, g.hex)
		}
		if len(got)/2 != l.Size {
			t.Errorf("%s: %d bytes, Size %d", g.spec, len(got)/2, l.Size)
		}
	}
}

func TestPresets(t *testing.T) {
	for name, want := range map[string]struct {
		size  int
		order Order
	}{"simulink": {70, LittleEndian}, "labview": {70, BigEndian}} {
		l, err := ParseLayout(name)
		if err != nil {
			t.Fatal(err)
		}
		if l.Size != want.size || l.Order != want.order || l.Preset != name {
			t.Errorf("%s: size %d order %v preset %q", name, l.Size, l.Order, l.Preset)
		}
		b := l.AppendSample(nil, 7, &testSample)
		bo := l.Order.bo()
		if bo.Uint32(b) != 7 || math.Float64frombits(bo.Uint64(b[12:])) != 0.125 || bo.Uint16(b[68:]) != uint16(testSample.Status) {
			t.Errorf("%s: % x", name, b)
		}
	}
	l, err := ParseLayout("simulink,every=4")
	if err != nil || l.Every != 4 || l.Decimation() != 4 {
		t.Fatalf("simulink,every=4: %v, %v", l, err)
	}
}

func TestParseLayoutErrors(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"", "not NAME:TYPE"},
		{"order=be", "no fields"},
		{"pad:u8", "only pad"},
		{"ax:f64,ax:f32", "given twice"},
		{"speed:f64", "unknown field"},
		{"ax:f16", "type \"f16\""},
		{"ax:f64,simulink", "must come first"},
		{"simulink,order=le", "its byte order"},
		{"simulink,ax:f64", "after a preset"},
		{"ax:f64,every=0", "every="},
		{"ax:f64,colour=red", "unknown option"},
		{"ax:f64,order=be,order=le", "given twice"},
		{strings.Repeat("pad:u64,", 62) + "ax:f64", "longer than 500"},
	} {
		_, err := ParseLayout(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "rig: ") {
			t.Errorf("ParseLayout(%q) = %v, want an error with %q", tc.spec, err, tc.want)
		}
	}
	// 500 bytes exactly is allowed.
	if l, err := ParseLayout(strings.Repeat("pad:u64,", 61) + "ax:f64,pad:u32"); err != nil || l.Size != 500 {
		t.Errorf("500-byte layout: %v", err)
	}
}

func TestEveryFieldName(t *testing.T) {
	var spec []string
	for _, f := range Fields {
		spec = append(spec, f.Name+":f64")
	}
	l, err := ParseLayout(strings.Join(spec, ","))
	if err != nil {
		t.Fatal(err)
	}
	b := l.AppendSample(nil, 3, &testSample)
	want := []float64{3, 12345.6789, 1767225600.1234567, 12345678900000, 1767225600123456789, 1800000, 34,
		0.125, -0.25, float64(float32(9.80665)), 0.5, -1, 2, 25.5, 101325, 20, -5, 40, 1, 0, 0, 0, 0}
	for i, f := range l.Fields {
		if got := math.Float64frombits(binary.LittleEndian.Uint64(b[f.Offset:])); got != want[i] {
			t.Errorf("%s = %v, want %v", f.Name, got, want[i])
		}
	}
}

func TestDescribe(t *testing.T) {
	l, err := ParseLayout("seq:u32,pad:u8,ax:f32,flags:u16,order=be,every=2")
	if err != nil {
		t.Fatal(err)
	}
	j, err := l.Describe("json")
	if err != nil {
		t.Fatal(err)
	}
	var jl JSONLayout
	if err := json.Unmarshal(j, &jl); err != nil {
		t.Fatal(err)
	}
	if jl.Order != "be" || jl.Size != 11 || jl.Every != 2 || len(jl.Fields) != 4 || jl.Fields[2] != (JSONField{"ax", "f32", 5}) {
		t.Errorf("json: %s", j)
	}
	for format, wants := range map[string][]string{
		"c":        {"#pragma pack(push, 1)", "uint32_t  seq;", "uint8_t   pad4;", "float     ax;", "== 11", "big-endian", "one sample in 2"},
		"simulink": {"Receive width ............ 11", "{1,1,1,1}", "{'uint32','uint8','single','uint16'}", "Byte alignment ................ 1", "Byte Reversal"},
		"labview":  {"U32  seq", "SGL  ax", "big-endian, network order", "False"},
	} {
		b, err := l.Describe(format)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range wants {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s: no %q in\n%s", format, w, b)
			}
		}
	}
	if _, err := l.Describe("python"); err == nil {
		t.Error("Describe(python) succeeded")
	}
}

// BenchmarkAppendSample encodes the simulink preset into a preallocated
// buffer: the per-sample cost a rig subscriber adds to a tick.
func BenchmarkAppendSample(b *testing.B) {
	l, err := ParseLayout("simulink")
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, MaxLayoutLen)
	s := testSample
	b.ReportAllocs()
	var seq uint32
	for b.Loop() {
		buf = l.AppendSample(buf[:0], seq, &s)
		seq++
	}
}
