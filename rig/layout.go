package rig

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/imustream/imustream/sensor"
)

// Limits of a layout.
const (
	// MaxLayoutLen is the longest sample struct: xPC Target's UDP blocks
	// take about 500 bytes per packet.
	MaxLayoutLen = 500
	// MaxEvery is the largest decimation.
	MaxEvery = sensor.MaxRateHz
)

// Presets name the layouts of the common rigs: the same fields,
// little-endian for Simulink (Byte Unpacking on an x86 target) and
// big-endian for LabVIEW (Unflatten From String's default).
var Presets = map[string]string{
	"simulink": "seq:u32,t:f64,ax:f64,ay:f64,az:f64,gx:f64,gy:f64,gz:f64,temp:f64,flags:u16,order=le",
	"labview":  "seq:u32,t:f64,ax:f64,ay:f64,az:f64,gx:f64,gy:f64,gz:f64,temp:f64,flags:u16,order=be",
}

// DefaultLayout is the layout without a --rig-layout.
const DefaultLayout = "simulink"

// source is where a layout field's value comes from.
type source uint8

const (
	srcPad source = iota
	srcSeq
	srcT
	srcTWall
	srcMonoNs
	srcWallNs
	srcLateNs
	srcFlags
	srcAx
	srcAy
	srcAz
	srcGx
	srcGy
	srcGz
	srcTemp
	srcPressure
	srcMx
	srcMy
	srcMz
	srcQw
	srcQx
	srcQy
	srcQz
)

// FieldInfo describes a field name a layout may use.
type FieldInfo struct {
	Name    string
	Meaning string
	src     source
}

// Fields lists the field names a layout may use, in the order the docs
// show them. "pad" may repeat: zero bytes to match a rig's struct.
var Fields = []FieldInfo{
	{"seq", "sample counter: 0 for the stream's first sample, +1 per sample (+every with decimation); a gap is loss", srcSeq},
	{"t", "device CLOCK_MONOTONIC at the sample's tick, s", srcT},
	{"t_wall", "device CLOCK_REALTIME at the sample's tick, s since the Unix epoch", srcTWall},
	{"mono_ns", "device CLOCK_MONOTONIC at the sample's tick, ns", srcMonoNs},
	{"wall_ns", "device CLOCK_REALTIME at the sample's tick, ns since the Unix epoch", srcWallNs},
	{"late_ns", "how late the tick fired after its deadline, ns", srcLateNs},
	{"flags", "status bits as in the native stream (docs/protocol.md)", srcFlags},
	{"ax", "acceleration x (specific force), m/s²", srcAx},
	{"ay", "acceleration y, m/s²", srcAy},
	{"az", "acceleration z, m/s²", srcAz},
	{"gx", "angular rate x, rad/s", srcGx},
	{"gy", "angular rate y, rad/s", srcGy},
	{"gz", "angular rate z, rad/s", srcGz},
	{"temp", "sensor temperature, °C", srcTemp},
	{"pressure", "barometric pressure, Pa (valid with flags bit 5)", srcPressure},
	{"mx", "magnetic field x, µT (valid with flags bit 6)", srcMx},
	{"my", "magnetic field y, µT", srcMy},
	{"mz", "magnetic field z, µT", srcMz},
	{"qw", "orientation quaternion w (valid with flags bit 7)", srcQw},
	{"qx", "orientation quaternion x", srcQx},
	{"qy", "orientation quaternion y", srcQy},
	{"qz", "orientation quaternion z", srcQz},
	{"pad", "zero bytes (may repeat)", srcPad},
}

func fieldInfo(name string) (FieldInfo, bool) {
	for _, f := range Fields {
		if f.Name == name {
			return f, true
		}
	}
	return FieldInfo{}, false
}

// Field is one field of a layout, at its byte offset (packed: no
// alignment, no padding but "pad" fields).
type Field struct {
	Name   string
	Type   Type
	Offset int
	src    source
}

// Layout is the sample struct a rig reads: one sample per datagram, no
// header. It encodes a sensor.Sample without allocating (AppendSample),
// so the sender can use it on its tick.
type Layout struct {
	Fields []Field
	Order  Order
	// Every is the decimation: the rig gets every Every-th sample (the
	// ones whose seq is a multiple of it). 1 means every sample.
	Every int
	// Size is the struct's length in bytes.
	Size int
	// Preset is the preset the spec named, "" for none.
	Preset string
}

// ParseLayout reads a layout spec: a preset name (simulink, labview) or
// comma-separated NAME:TYPE fields in wire order, with order=le|be
// (default le) and every=N (default 1) anywhere in the list; a preset may
// be followed by every=N. Field names are those of Fields; types those of
// a command (u8 … f64). An integer field given a float value (ax:i16)
// gets it rounded and saturated; an integer value too wide for its field
// (seq:u16) wraps.
func ParseLayout(spec string) (*Layout, error) {
	spec = strings.TrimSpace(spec)
	l := &Layout{Every: 1}
	head, rest, _ := strings.Cut(spec, ",")
	if p, ok := Presets[strings.TrimSpace(head)]; ok {
		l.Preset = strings.TrimSpace(head)
		if err := l.parseItems(p, false); err != nil {
			return nil, err // presets are tested
		}
		if rest != "" {
			if err := l.parseItems(rest, true); err != nil {
				return nil, err
			}
		}
	} else if err := l.parseItems(spec, false); err != nil {
		return nil, err
	}
	if l.Size == 0 {
		return nil, errors.New("rig: layout: no fields")
	}
	if !slices.ContainsFunc(l.Fields, func(f Field) bool { return f.src != srcPad }) {
		return nil, errors.New("rig: layout: only pad fields")
	}
	return l, nil
}

func (l *Layout) parseItems(spec string, onlyEvery bool) error {
	seen := map[string]bool{}
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if k, v, ok := strings.Cut(item, "="); ok {
			if seen[k] {
				return fmt.Errorf("rig: layout: %s given twice", k)
			}
			seen[k] = true
			switch {
			case k == "every":
				n, err := parseSize(v, 1, MaxEvery)
				if err != nil {
					return fmt.Errorf("rig: layout: every=%w", err)
				}
				l.Every = n
			case k == "order" && !onlyEvery:
				o, ok := parseOrder(v)
				if !ok {
					return fmt.Errorf("rig: layout: order %q: want le or be", v)
				}
				l.Order = o
			case k == "order":
				return errors.New("rig: layout: a preset has its byte order; write the fields out for another")
			default:
				return fmt.Errorf("rig: layout: unknown option %q (want order or every)", k)
			}
			continue
		}
		if onlyEvery {
			return fmt.Errorf("rig: layout: %q after a preset: a preset takes only every=N", item)
		}
		name, typ, ok := strings.Cut(item, ":")
		if !ok {
			if _, preset := Presets[item]; preset {
				return fmt.Errorf("rig: layout: preset %q must come first", item)
			}
			return fmt.Errorf("rig: layout: %q is not NAME:TYPE (e.g. ax:f64) or a preset (simulink, labview)", item)
		}
		fi, ok := fieldInfo(name)
		if !ok {
			return fmt.Errorf("rig: layout: unknown field %q (want %s)", name, fieldNames())
		}
		t, ok := parseType(typ)
		if !ok {
			return fmt.Errorf("rig: layout: %s: type %q: want u8, u16, u32, u64, i8, i16, i32, i64, f32 or f64", name, typ)
		}
		if fi.src != srcPad && slices.ContainsFunc(l.Fields, func(f Field) bool { return f.Name == name }) {
			return fmt.Errorf("rig: layout: field %s given twice", name)
		}
		if l.Size+t.Size() > MaxLayoutLen {
			return fmt.Errorf("rig: layout: longer than %d bytes", MaxLayoutLen)
		}
		l.Fields = append(l.Fields, Field{Name: name, Type: t, Offset: l.Size, src: fi.src})
		l.Size += t.Size()
	}
	return nil
}

func fieldNames() string {
	n := make([]string, len(Fields))
	for i, f := range Fields {
		n[i] = f.Name
	}
	return strings.Join(n, ", ")
}

// String is the layout in canonical form (fields written out);
// ParseLayout reads it back.
func (l *Layout) String() string {
	var b strings.Builder
	for _, f := range l.Fields {
		b.WriteString(f.Name + ":" + f.Type.String() + ",")
	}
	b.WriteString("order=" + l.Order.String())
	if l.Every != 1 {
		b.WriteString(",every=" + strconv.Itoa(l.Every))
	}
	return b.String()
}

// Decimation is how many samples one datagram stands for (Every).
func (l *Layout) Decimation() int { return l.Every }

// AppendSample appends s as the layout's struct, seq its counter, to dst.
// It does not allocate when dst has Size bytes spare.
func (l *Layout) AppendSample(dst []byte, seq uint32, s *sensor.Sample) []byte {
	n := len(dst)
	dst = slices.Grow(dst, l.Size)[:n+l.Size]
	b := dst[n:]
	be := l.Order == BigEndian
	for i := range l.Fields {
		f := &l.Fields[i]
		switch f.src {
		case srcPad:
			clear(b[f.Offset : f.Offset+f.Type.Size()])
		case srcSeq:
			putInt(b[f.Offset:], f.Type, be, int64(seq))
		case srcMonoNs:
			putInt(b[f.Offset:], f.Type, be, s.MonoNs)
		case srcWallNs:
			putInt(b[f.Offset:], f.Type, be, s.WallNs)
		case srcLateNs:
			putInt(b[f.Offset:], f.Type, be, s.LateNs)
		case srcFlags:
			putInt(b[f.Offset:], f.Type, be, int64(s.Status))
		default:
			putFloat(b[f.Offset:], f.Type, be, floatOf(f.src, s))
		}
	}
	return dst
}

func floatOf(src source, s *sensor.Sample) float64 {
	switch src {
	case srcT:
		return float64(s.MonoNs) / 1e9
	case srcTWall:
		return float64(s.WallNs) / 1e9
	case srcAx, srcAy, srcAz:
		return float64(s.Accel[src-srcAx])
	case srcGx, srcGy, srcGz:
		return float64(s.Gyro[src-srcGx])
	case srcTemp:
		return float64(s.TempC)
	case srcPressure:
		return float64(s.PressurePa)
	case srcMx, srcMy, srcMz:
		return float64(s.Mag[src-srcMx])
	case srcQw, srcQx, srcQy, srcQz:
		return float64(s.Quat[src-srcQw])
	}
	return 0
}

// putInt writes an integer value: as is into a float field, wrapped into
// an integer field.
func putInt(b []byte, t Type, be bool, v int64) {
	if t.float() {
		putFloat(b, t, be, float64(v))
		return
	}
	putBits(b, t, be, uint64(v))
}

// putFloat writes a float value: as is into a float field, rounded and
// saturated into an integer field (NaN as 0).
func putFloat(b []byte, t Type, be bool, v float64) {
	switch t {
	case F32:
		putBits(b, U32, be, uint64(math.Float32bits(float32(v))))
		return
	case F64:
		putBits(b, U64, be, math.Float64bits(v))
		return
	}
	if math.IsNaN(v) {
		v = 0
	}
	v = math.Round(v)
	if t.signed() {
		bits := uint(t.Size() * 8)
		lo, hi := -math.Ldexp(1, int(bits-1)), math.Ldexp(1, int(bits-1))
		var i int64
		switch {
		case v < lo:
			i = math.MinInt64 >> (64 - bits)
		case v >= hi:
			i = math.MaxInt64 >> (64 - bits)
		default:
			i = int64(v)
		}
		putBits(b, t, be, uint64(i))
		return
	}
	hi := math.Ldexp(1, t.Size()*8)
	var u uint64
	switch {
	case v <= 0:
		u = 0
	case v >= hi:
		u = math.MaxUint64 >> (64 - t.Size()*8)
	default:
		u = uint64(v)
	}
	putBits(b, t, be, u)
}

func putBits(b []byte, t Type, be bool, u uint64) {
	switch t.Size() {
	case 1:
		b[0] = byte(u)
	case 2:
		if be {
			binary.BigEndian.PutUint16(b, uint16(u))
		} else {
			binary.LittleEndian.PutUint16(b, uint16(u))
		}
	case 4:
		if be {
			binary.BigEndian.PutUint32(b, uint32(u))
		} else {
			binary.LittleEndian.PutUint32(b, uint32(u))
		}
	case 8:
		if be {
			binary.BigEndian.PutUint64(b, u)
		} else {
			binary.LittleEndian.PutUint64(b, u)
		}
	}
}
