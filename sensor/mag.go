package sensor

import "math"

// Magnetometer reads a magnetometer into a sample, after the IMU's read:
// the chip drivers of magnetometers implement it and package detect adds
// it to the IMU's sensor.
//
// ReadMag writes the latest reading the chip has into Mag (µT, in the
// frame of the IMU's accelerometer and gyroscope) and sets StatusMag; on
// an overflow it sets StatusMagOverflow instead; with no reading yet, or
// when the read fails, it clears both and leaves Mag alone. It must not
// allocate, and never touches the other fields.
type Magnetometer interface {
	ReadMag(s *Sample) error
	String() string
	Halt() error
}

// Axes maps a magnetometer chip's axes onto the IMU's: body axis i is
// chip axis |Axes[i]|-1 (1, 2, 3 for x, y, z), negated when Axes[i] < 0.
// The zero value is the identity.
type Axes [3]int8

// Apply returns v in the IMU's axes.
func (a Axes) Apply(v [3]float64) [3]float64 {
	if a == (Axes{}) {
		return v
	}
	var out [3]float64
	for i, m := range a {
		k := int(m)
		if k < 0 {
			out[i] = -v[-k-1]
		} else {
			out[i] = v[k-1]
		}
	}
	return out
}

// MagReading is what a magnetometer driver keeps between reads: the
// latest field, so that a read without new data repeats it.
type MagReading struct {
	Last [3]float32 // µT, IMU axes
	Have bool
	// stale counts the reads in a row that found no new data.
	stale int
}

// MaxStaleReads is how many reads in a row without new data NoData
// tolerates: a chip that reset to power-down after a glitch answers but
// never measures again. At 200 Hz it is half a second, many times the
// period of the magnetometers' output rates.
const MaxStaleReads = 100

// SetCounts converts 16-bit counts (chip axes) with per-axis scales (µT
// per LSB) into the IMU's axes, stores it as the latest reading and
// writes it into s. With overflow the reading is not stored: s gets
// StatusMagOverflow and no StatusMag. An axis at the int16 limits also
// counts as an overflow (the ADC clipped).
func (m *MagReading) SetCounts(s *Sample, counts [3]int16, scale [3]float64, axes Axes, overflow bool) {
	var v [3]float64
	for i := range 3 {
		overflow = overflow || counts[i] == math.MaxInt16 || counts[i] == math.MinInt16
		v[i] = float64(counts[i]) * scale[i]
	}
	if overflow {
		m.stale = 0
		s.Status = s.Status&^StatusMag | StatusMagOverflow
		return
	}
	m.stale = 0
	v = axes.Apply(v)
	for i := range 3 {
		m.Last[i] = float32(v[i])
	}
	m.Have = true
	m.Put(s)
}

// Put writes the latest reading into s (StatusMag), or clears the bits
// when there has been none.
func (m *MagReading) Put(s *Sample) {
	s.Status &^= StatusMag | StatusMagOverflow
	if m.Have {
		s.Mag = m.Last
		s.Status |= StatusMag
	}
}

// NoData is for a read that found no new measurement: it repeats the
// latest reading into s and reports whether there have been more than
// MaxStaleReads such reads in a row (the driver should re-initialise).
func (m *MagReading) NoData(s *Sample) bool {
	m.stale++
	m.Put(s)
	return m.stale > MaxStaleReads
}

// OrientationSensor is a sensor whose samples carry an orientation (Quat
// with StatusOrientation): a fusion stage, or a chip that fuses on board.
type OrientationSensor interface {
	HasOrientation() bool
}

// HasOrientation reports whether sens, or a sensor it wraps, adds an
// orientation to its samples.
func HasOrientation(sens Sensor) bool {
	for sens != nil {
		if o, ok := sens.(OrientationSensor); ok && o.HasOrientation() {
			return true
		}
		w, ok := sens.(interface{ Unwrap() Sensor })
		if !ok {
			return false
		}
		sens = w.Unwrap()
	}
	return false
}
