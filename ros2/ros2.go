// Package ros2 encodes the ROS 2 sensor messages imustream records as
// CDR, the serialization of ROS 2's DDS middleware and of MCAP files with
// the "cdr" message encoding, and gives their "ros2msg" schema texts.
//
// The encoding is classic CDR (XCDR1), little-endian: a 4-byte
// encapsulation header 00 01 00 00, then the fields in declaration order,
// each primitive aligned to its own size (at most 8) counted from the end
// of that header; a string is a uint32 length that counts its closing NUL,
// the bytes and the NUL; a fixed array is its elements back to back.
// Encoders append to the caller's buffer (no allocation once it has
// room); decoders check every length and return an Err… value, never
// panic. The package does no I/O.
//
// # Messages
//
//   - sensor_msgs/msg/Imu: orientation (x, y, z, w), angular velocity
//     (rad/s), linear acceleration (m/s²), each with a row-major 3×3
//     covariance. REP 145: element 0 of a covariance −1 means "no
//     estimate" (an IMU without orientation), all zeros "unknown".
//   - sensor_msgs/msg/MagneticField: tesla (not µT).
//   - sensor_msgs/msg/Temperature: °C and its variance.
//   - sensor_msgs/msg/FluidPressure: Pa and its variance.
//
// Each has a std_msgs/Header: a builtin_interfaces/Time stamp and a
// frame_id.
package ros2

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Encapsulation is the CDR header of every message: plain CDR,
// little-endian.
var Encapsulation = [4]byte{0x00, 0x01, 0x00, 0x00}

// Errors of the decoders.
var (
	ErrShort         = errors.New("ros2: message shorter than its fields")
	ErrEncapsulation = errors.New("ros2: not little-endian plain CDR")
	ErrString        = errors.New("ros2: bad string")
	ErrTrailing      = errors.New("ros2: bytes after the message")
)

// MaxFrameID bounds a decoded frame_id.
const MaxFrameID = 256

// Time is builtin_interfaces/msg/Time.
type Time struct {
	Sec     int32
	Nanosec uint32
}

// TimeFromNs splits ns since the Unix epoch into a Time (floored, so
// Nanosec is always in 0..999999999).
func TimeFromNs(ns int64) Time {
	sec, nsec := ns/1e9, ns%1e9
	if nsec < 0 {
		sec, nsec = sec-1, nsec+1e9
	}
	return Time{Sec: int32(sec), Nanosec: uint32(nsec)}
}

// Ns is t in ns since the Unix epoch.
func (t Time) Ns() int64 { return int64(t.Sec)*1e9 + int64(t.Nanosec) }

// Header is std_msgs/msg/Header.
type Header struct {
	Stamp   Time
	FrameID string
}

// Imu is sensor_msgs/msg/Imu.
type Imu struct {
	Header                       Header
	Orientation                  [4]float64 // x, y, z, w
	OrientationCovariance        [9]float64
	AngularVelocity              [3]float64 // rad/s
	AngularVelocityCovariance    [9]float64
	LinearAcceleration           [3]float64 // m/s²
	LinearAccelerationCovariance [9]float64
}

// MagneticField is sensor_msgs/msg/MagneticField.
type MagneticField struct {
	Header                  Header
	MagneticField           [3]float64 // T
	MagneticFieldCovariance [9]float64
}

// Temperature is sensor_msgs/msg/Temperature.
type Temperature struct {
	Header      Header
	Temperature float64 // °C
	Variance    float64 // 0: unknown
}

// FluidPressure is sensor_msgs/msg/FluidPressure.
type FluidPressure struct {
	Header        Header
	FluidPressure float64 // Pa
	Variance      float64 // 0: unknown
}

// enc appends CDR fields; origin is where the message's alignment counts
// from (after the encapsulation header).
type enc struct {
	b      []byte
	origin int
}

func begin(dst []byte) enc {
	dst = append(dst, Encapsulation[:]...)
	return enc{b: dst, origin: len(dst)}
}

func (e *enc) align(n int) {
	for (len(e.b)-e.origin)%n != 0 {
		e.b = append(e.b, 0)
	}
}

func (e *enc) u32(v uint32) {
	e.align(4)
	e.b = binary.LittleEndian.AppendUint32(e.b, v)
}

func (e *enc) f64(v float64) {
	e.align(8)
	e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v))
}

func (e *enc) f64s(v []float64) {
	for _, x := range v {
		e.f64(x)
	}
}

func (e *enc) header(h *Header) {
	e.u32(uint32(h.Stamp.Sec))
	e.u32(h.Stamp.Nanosec)
	e.u32(uint32(len(h.FrameID) + 1))
	e.b = append(e.b, h.FrameID...)
	e.b = append(e.b, 0)
}

// AppendImu appends m as a CDR message to dst.
func AppendImu(dst []byte, m *Imu) []byte {
	e := begin(dst)
	e.header(&m.Header)
	e.f64s(m.Orientation[:])
	e.f64s(m.OrientationCovariance[:])
	e.f64s(m.AngularVelocity[:])
	e.f64s(m.AngularVelocityCovariance[:])
	e.f64s(m.LinearAcceleration[:])
	e.f64s(m.LinearAccelerationCovariance[:])
	return e.b
}

// AppendMagneticField appends m as a CDR message to dst.
func AppendMagneticField(dst []byte, m *MagneticField) []byte {
	e := begin(dst)
	e.header(&m.Header)
	e.f64s(m.MagneticField[:])
	e.f64s(m.MagneticFieldCovariance[:])
	return e.b
}

// AppendTemperature appends m as a CDR message to dst.
func AppendTemperature(dst []byte, m *Temperature) []byte {
	e := begin(dst)
	e.header(&m.Header)
	e.f64(m.Temperature)
	e.f64(m.Variance)
	return e.b
}

// AppendFluidPressure appends m as a CDR message to dst.
func AppendFluidPressure(dst []byte, m *FluidPressure) []byte {
	e := begin(dst)
	e.header(&m.Header)
	e.f64(m.FluidPressure)
	e.f64(m.Variance)
	return e.b
}

// dec reads CDR fields; the first error sticks.
type dec struct {
	b   []byte
	off int // from the end of the encapsulation header
	err error
}

func open(b []byte) *dec {
	if len(b) < 4 {
		return &dec{err: ErrShort}
	}
	if [4]byte(b[:4]) != Encapsulation {
		return &dec{err: fmt.Errorf("%w: header % x", ErrEncapsulation, b[:4])}
	}
	return &dec{b: b[4:]}
}

func (d *dec) take(n, align int) []byte {
	if d.err != nil {
		return nil
	}
	if r := d.off % align; r != 0 {
		d.off += align - r
	}
	if d.off > len(d.b) || len(d.b)-d.off < n {
		d.err = ErrShort
		return nil
	}
	v := d.b[d.off : d.off+n]
	d.off += n
	return v
}

func (d *dec) u32() uint32 {
	if v := d.take(4, 4); v != nil {
		return binary.LittleEndian.Uint32(v)
	}
	return 0
}

func (d *dec) f64s(dst []float64) {
	for i := range dst {
		if v := d.take(8, 8); v != nil {
			dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(v))
		}
	}
}

func (d *dec) header(h *Header) {
	h.Stamp.Sec = int32(d.u32())
	h.Stamp.Nanosec = d.u32()
	n := d.u32()
	if d.err != nil {
		return
	}
	if n == 0 || n > MaxFrameID+1 {
		d.err = fmt.Errorf("%w: frame_id length %d", ErrString, n)
		return
	}
	s := d.take(int(n), 1)
	if d.err != nil {
		return
	}
	if s[n-1] != 0 {
		d.err = fmt.Errorf("%w: frame_id without its NUL", ErrString)
		return
	}
	h.FrameID = string(s[:n-1])
}

// end checks what follows the last field: nothing, or up to 7 zero bytes
// of padding (some writers pad a message to a multiple of 4 or 8).
func (d *dec) end() error {
	if d.err != nil {
		return d.err
	}
	rest := d.b[d.off:]
	for _, c := range rest {
		if c != 0 || len(rest) > 7 {
			d.err = fmt.Errorf("%w: %d", ErrTrailing, len(rest))
			break
		}
	}
	return d.err
}

// ParseImu decodes a CDR sensor_msgs/msg/Imu into m.
func ParseImu(b []byte, m *Imu) error {
	d := open(b)
	d.header(&m.Header)
	d.f64s(m.Orientation[:])
	d.f64s(m.OrientationCovariance[:])
	d.f64s(m.AngularVelocity[:])
	d.f64s(m.AngularVelocityCovariance[:])
	d.f64s(m.LinearAcceleration[:])
	d.f64s(m.LinearAccelerationCovariance[:])
	return d.end()
}

// ParseMagneticField decodes a CDR sensor_msgs/msg/MagneticField into m.
func ParseMagneticField(b []byte, m *MagneticField) error {
	d := open(b)
	d.header(&m.Header)
	d.f64s(m.MagneticField[:])
	d.f64s(m.MagneticFieldCovariance[:])
	return d.end()
}

// ParseTemperature decodes a CDR sensor_msgs/msg/Temperature into m.
func ParseTemperature(b []byte, m *Temperature) error {
	d := open(b)
	d.header(&m.Header)
	v := [2]float64{}
	d.f64s(v[:])
	m.Temperature, m.Variance = v[0], v[1]
	return d.end()
}

// ParseFluidPressure decodes a CDR sensor_msgs/msg/FluidPressure into m.
func ParseFluidPressure(b []byte, m *FluidPressure) error {
	d := open(b)
	d.header(&m.Header)
	v := [2]float64{}
	d.f64s(v[:])
	m.FluidPressure, m.Variance = v[0], v[1]
	return d.end()
}
