package sim

import "math"

// Field is the earth's magnetic field at the simulated place.
type Field struct {
	// StrengthUT is the total intensity in µT (25 to 65 on earth).
	StrengthUT float64
	// InclinationDeg is the dip below the horizontal, positive downward
	// (northern hemisphere).
	InclinationDeg float64
	// DeclinationDeg is the angle from true north to magnetic north,
	// positive east.
	DeclinationDeg float64
}

// DefaultField is a mid-latitude European field: 50 µT, dipping 65°, no
// declination (so magnetic and true north agree).
var DefaultField = Field{StrengthUT: 50, InclinationDeg: 65}

// World returns the field in the ENU world frame (x east, y north, z up),
// in µT.
func (f Field) World() [3]float64 {
	si, ci := math.Sincos(f.InclinationDeg * deg)
	sd, cd := math.Sincos(f.DeclinationDeg * deg)
	return [3]float64{f.StrengthUT * ci * sd, f.StrengthUT * ci * cd, -f.StrengthUT * si}
}

var identity = [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}

// Scripted motion: each Euler angle about the pose is a sum of sinusoids
// with fixed phases, faded in from 2 s to 4 s so that a filter starts at
// rest. Incommensurate periods, so 60 s holds no repeat.
var (
	scriptAmp    = [3][2]float64{{22 * deg, 8 * deg}, {18 * deg, 6 * deg}, {100 * deg, 20 * deg}}
	scriptPeriod = [3][2]float64{{6.3, 2.3}, {8.9, 3.1}, {21, 5.3}}
	scriptPhase  = [3][2]float64{{0, 1}, {0.5, 2}, {0, 0.7}}
)

const scriptStart, scriptFade = 2.0, 2.0 // s

// Scripted returns the scripted trajectory's Euler angles (roll, pitch,
// yaw in radians) t seconds after the first read, starting from pose, and
// their time derivatives. It depends on nothing else: the truth of a
// recording of a scripted simulator can be computed from its timestamps.
func Scripted(pose [3]float64, t float64) (ang, rate [3]float64) {
	// Smoothstep fade-in e(t) and its derivative.
	u := min(max((t-scriptStart)/scriptFade, 0), 1)
	e := u * u * (3 - 2*u)
	de := 0.0
	if u > 0 && u < 1 {
		de = 6 * u * (1 - u) / scriptFade
	}
	ang = pose
	for i := range 3 {
		var v, dv float64
		for k := range 2 {
			w := 2 * math.Pi / scriptPeriod[i][k]
			sn, cs := math.Sincos(w*t + scriptPhase[i][k])
			v += scriptAmp[i][k] * (sn - math.Sin(scriptPhase[i][k]))
			dv += scriptAmp[i][k] * w * cs
		}
		ang[i] += e * v
		rate[i] = de*v + e*dv
	}
	return ang, rate
}

// Tumble returns the tumbling trajectory's Euler angles t seconds after
// the first read, and their derivatives.
func Tumble(t float64) (ang, rate [3]float64) {
	const (
		yawPeriod, pitchPeriod, rollPeriod = 4.0, 5.7, 7.3
		pitchAmp, rollAmp                  = 80 * deg, 170 * deg
	)
	wy, wp, wr := 2*math.Pi/yawPeriod, 2*math.Pi/pitchPeriod, 2*math.Pi/rollPeriod
	sp, cp := math.Sincos(wp * t)
	sr, cr := math.Sincos(wr * t)
	ang = [3]float64{rollAmp * sr, pitchAmp * sp, math.Remainder(wy*t, 2*math.Pi)}
	rate = [3]float64{rollAmp * wr * cr, pitchAmp * wp * cp, wy}
	return ang, rate
}

// magnetometer returns the field the magnetometer reads at attitude ang:
// the world field turned into the body frame, distorted, with noise.
func (d *Sim) magnetometer(ang [3]float64) [3]float32 {
	rt := transposed(EulerMatrix(ang))
	b := mulVec(rt, d.fieldWorld)
	m := mulVec(d.opts.SoftIron, b)
	var out [3]float32
	for i := range 3 {
		v := m[i] + d.opts.HardIron[i]
		if !d.opts.NoiseFree {
			v += d.opts.MagNoise * d.magRng.NormFloat64()
		}
		out[i] = float32(v)
	}
	return out
}

// Truth returns the true attitude at the last Read (failed ones
// included): roll, pitch and yaw in radians, ZYX Euler angles of the
// body in the ENU world frame.
func (d *Sim) Truth() [3]float64 { return d.truth }

// FieldWorld returns the earth's field the simulator uses, in µT, ENU.
func (d *Sim) FieldWorld() [3]float64 { return d.fieldWorld }

// EulerMatrix returns the rotation R = Rz(yaw)·Ry(pitch)·Rx(roll) that
// takes body vectors into the world frame.
func EulerMatrix(ang [3]float64) [3][3]float64 {
	sr, cr := math.Sincos(ang[0])
	sp, cp := math.Sincos(ang[1])
	sy, cy := math.Sincos(ang[2])
	return [3][3]float64{
		{cy * cp, cy*sp*sr - sy*cr, cy*sp*cr + sy*sr},
		{sy * cp, sy*sp*sr + cy*cr, sy*sp*cr - cy*sr},
		{-sp, cp * sr, cp * cr},
	}
}

// EulerQuat returns the unit quaternion (w, x, y, z) of EulerMatrix(ang).
func EulerQuat(ang [3]float64) [4]float64 {
	sr, cr := math.Sincos(ang[0] / 2)
	sp, cp := math.Sincos(ang[1] / 2)
	sy, cy := math.Sincos(ang[2] / 2)
	return [4]float64{
		cr*cp*cy + sr*sp*sy,
		sr*cp*cy - cr*sp*sy,
		cr*sp*cy + sr*cp*sy,
		cr*cp*sy - sr*sp*cy,
	}
}

func transposed(m [3][3]float64) [3][3]float64 {
	var t [3][3]float64
	for i := range 3 {
		for j := range 3 {
			t[i][j] = m[j][i]
		}
	}
	return t
}

func mulVec(m [3][3]float64, v [3]float64) [3]float64 {
	var out [3]float64
	for i := range 3 {
		out[i] = m[i][0]*v[0] + m[i][1]*v[1] + m[i][2]*v[2]
	}
	return out
}

// HasMag implements sensor.MagSensor: whether Opts.Mag turned the
// magnetometer on.
func (d *Sim) HasMag() bool { return d.opts.Mag }

// Attitude returns the true roll, pitch and yaw t seconds after the first
// read, as Read would model them: a function of the options and the seed
// only, so a second simulator with the same options gives the truth of a
// recording of the first.
func (d *Sim) Attitude(t float64) [3]float64 {
	ang, _ := d.attitude(t)
	return ang
}
