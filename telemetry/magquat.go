package telemetry

import (
	"encoding/binary"
	"math"

	"github.com/imustream/imustream/sensor"
)

// The record with the magnetic field and the orientation: the 56-byte
// record with pressure_pa, then mag_x, mag_y, mag_z (µT) at offset 56 and
// quat_w, quat_x, quat_y, quat_z at offset 68, all float32. A stream from
// a sensor with a magnetometer or through a fusion stage sends it.
const (
	SampleLenMagQuat = 84
	// MaxBatchMagQuat keeps a datagram of 84-byte records under 1200
	// bytes: 20 + 14·84 = 1196.
	MaxBatchMagQuat       = 14
	MaxDatagramLenMagQuat = HeaderLen + MaxBatchMagQuat*SampleLenMagQuat
	// MaxBatchMagQuatTagged does the same with a tag: 20 + 13·84 + 16 = 1128.
	MaxBatchMagQuatTagged = (1200 - HeaderLen - TagLen) / SampleLenMagQuat
)

// AppendSampleMagQuat appends one 84-byte record: AppendSamplePressure's,
// the field (zeros unless s has sensor.StatusMag) and the quaternion
// (zeros unless s has sensor.StatusOrientation).
func AppendSampleMagQuat(dst []byte, s *sensor.Sample) []byte {
	dst = AppendSamplePressure(dst, s)
	var m [3]float32
	if s.Status&sensor.StatusMag != 0 {
		m = s.Mag
	}
	for _, v := range m {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(v))
	}
	var q [4]float32
	if s.Status&sensor.StatusOrientation != 0 {
		q = s.Quat
	}
	for _, v := range q {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(v))
	}
	return dst
}

// AppendDatagramMagQuat is AppendDatagram with 84-byte records
// (AppendSampleMagQuat). It panics unless 1 ≤ len(samples) ≤
// MaxBatchMagQuat.
func AppendDatagramMagQuat(dst []byte, h Header, samples []sensor.Sample) []byte {
	return appendRecords(dst, h, samples, SampleLenMagQuat)
}

func parseMagQuat(b []byte, s *sensor.Sample) {
	s.Mag, s.Quat = [3]float32{}, [4]float32{}
	if len(b) < SampleLenMagQuat {
		return
	}
	if s.Status&sensor.StatusMag != 0 {
		for i := range s.Mag {
			s.Mag[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[56+4*i:]))
		}
	}
	if s.Status&sensor.StatusOrientation != 0 {
		for i := range s.Quat {
			s.Quat[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[68+4*i:]))
		}
	}
}
