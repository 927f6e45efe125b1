package fusion

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Mode is the number of sensors the filter fuses.
type Mode uint8

// Modes.
const (
	Off      Mode = 0 // no fusion: Stage is not used
	SixAxis  Mode = 6 // gyroscope and accelerometer
	NineAxis Mode = 9 // and magnetometer
)

func (m Mode) String() string {
	switch m {
	case Off:
		return "off"
	case SixAxis, NineAxis:
		return strconv.Itoa(int(m))
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// ParseMode reads "off", "6" or "9".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "off", "0", "":
		return Off, nil
	case "6":
		return SixAxis, nil
	case "9":
		return NineAxis, nil
	}
	return Off, fmt.Errorf("%w: mode %q; want off, 6 or 9", ErrInvalidOpts, s)
}

// ErrInvalidOpts is wrapped by every configuration error.
var ErrInvalidOpts = errors.New("fusion: invalid options")

// Opts configures a Filter. Zero fields take the value in DefaultOpts.
type Opts struct {
	Mode Mode
	// Gain is the proportional gain in rad/s per unit of error: the
	// bandwidth of the correction. Higher follows the accelerometer and
	// magnetometer faster and lets more of their noise and disturbances
	// through. It defaults to 0.5 (x-io Fusion's default).
	Gain float64
	// IntegralGain estimates the gyroscope offset, in (rad/s)/s per unit
	// of error. It defaults to 0.1, which with Gain 0.5 settles a
	// constant offset in a few seconds; negative turns it off.
	IntegralGain float64
	// AccelRejectionDeg is the angle between measured and estimated up
	// above which a sample does not correct. It defaults to 10°.
	AccelRejectionDeg float64
	// MagRejectionDeg is the same for the heading. It defaults to 10°.
	MagRejectionDeg float64
	// RecoveryTime is how long rejections in a row may last before the
	// filter corrects again, in s. It defaults to 5.
	RecoveryTime float64
	// StartupTime is how long the gain ramps down from 10, in s. It
	// defaults to 3.
	StartupTime float64
	// RestRateDPS and RestTime define rest for the offset estimate: every
	// axis below RestRateDPS °/s for RestTime s. They default to 3 °/s and
	// 2 s.
	RestRateDPS float64
	RestTime    float64
	// DeclinationDeg turns the 9-axis heading from magnetic to true north:
	// the angle from true to magnetic north, positive east. It defaults
	// to 0.
	DeclinationDeg float64
}

// DefaultOpts are the defaults.
var DefaultOpts = Opts{
	Mode:              NineAxis,
	Gain:              0.5,
	IntegralGain:      0.1,
	AccelRejectionDeg: 10,
	MagRejectionDeg:   10,
	RecoveryTime:      5,
	StartupTime:       3,
	RestRateDPS:       3,
	RestTime:          2,
}

const (
	startGain   = 10
	maxOffset   = 20 * math.Pi / 180 // rad/s: what an untrimmed gyroscope may be off
	restTau     = 5.0                // s, the offset's time constant at rest
	fieldMargin = 0.2                // of the reference field strength
	maxDt       = 2.0                // s: a longer gap (no stream, or below 0.5 Hz) restarts the filter
)

// resolved returns o with defaults filled in and checked.
func (o *Opts) resolved() (Opts, error) {
	r := DefaultOpts
	if o == nil {
		return r, nil
	}
	r.Mode = o.Mode
	def := func(dst *float64, v float64) {
		if v != 0 {
			*dst = v
		}
	}
	def(&r.Gain, o.Gain)
	def(&r.IntegralGain, o.IntegralGain)
	def(&r.AccelRejectionDeg, o.AccelRejectionDeg)
	def(&r.MagRejectionDeg, o.MagRejectionDeg)
	def(&r.RecoveryTime, o.RecoveryTime)
	def(&r.StartupTime, o.StartupTime)
	def(&r.RestRateDPS, o.RestRateDPS)
	def(&r.RestTime, o.RestTime)
	r.DeclinationDeg = o.DeclinationDeg
	if r.IntegralGain < 0 {
		r.IntegralGain = 0
	}
	if r.Mode != SixAxis && r.Mode != NineAxis {
		return r, fmt.Errorf("%w: mode %v; want 6 or 9", ErrInvalidOpts, r.Mode)
	}
	for _, c := range []struct {
		name   string
		v, max float64
	}{
		{"gain", r.Gain, 50},
		{"integral gain", r.IntegralGain, 10},
		{"acceleration rejection", r.AccelRejectionDeg, 180},
		{"magnetic rejection", r.MagRejectionDeg, 180},
		{"recovery time", r.RecoveryTime, 3600},
		{"startup time", r.StartupTime, 3600},
		{"rest rate", r.RestRateDPS, 100},
		{"rest time", r.RestTime, 3600},
	} {
		if !(c.v >= 0 && c.v <= c.max) {
			return r, fmt.Errorf("%w: %s %g out of range 0..%g", ErrInvalidOpts, c.name, c.v, c.max)
		}
	}
	if !(math.Abs(r.DeclinationDeg) <= 180) {
		return r, fmt.Errorf("%w: declination %g° out of range -180..180", ErrInvalidOpts, r.DeclinationDeg)
	}
	return r, nil
}

// Validate reports whether o is a valid configuration.
func (o *Opts) Validate() error {
	_, err := o.resolved()
	return err
}

// Filter is the orientation filter. The zero value is not usable: make
// one with NewFilter. Update is for one goroutine.
type Filter struct {
	opts Opts
	// Derived once.
	cosAccRej, sinMagRej float64
	decl                 [4]float64 // rotation from magnetic to true ENU

	q      [4]float64 // body → world (magnetic ENU), unit
	offset [3]float64 // gyroscope offset estimate, rad/s

	started   bool
	t         float64 // s since the start
	accRejT   float64 // s of accelerometer rejections in a row
	magRejT   float64
	restT     float64 // s at rest so far
	refField  float64 // µT, the field strength at the start
	accRej    bool    // the last update rejected the accelerometer
	magRej    bool
	magUsed   bool
	lastError [2]float64 // last accelerometer and magnetometer errors, rad
}

// NewFilter returns a filter configured by opts (nil: DefaultOpts).
func NewFilter(opts *Opts) (*Filter, error) {
	o, err := opts.resolved()
	if err != nil {
		return nil, err
	}
	f := &Filter{opts: o}
	f.cosAccRej = math.Cos(o.AccelRejectionDeg * math.Pi / 180)
	f.sinMagRej = math.Sin(min(o.MagRejectionDeg, 90) * math.Pi / 180)
	// True ENU = Rz(−D) · magnetic ENU.
	s, c := math.Sincos(-o.DeclinationDeg * math.Pi / 180 / 2)
	f.decl = [4]float64{c, 0, 0, s}
	f.Reset()
	return f, nil
}

// Opts returns the configuration in use.
func (f *Filter) Opts() Opts { return f.opts }

// Reset forgets the orientation; the next update starts afresh. The
// gyroscope offset estimate is kept.
func (f *Filter) Reset() {
	f.q = [4]float64{1, 0, 0, 0}
	f.started = false
	f.t, f.accRejT, f.magRejT, f.restT = 0, 0, 0, 0
}

// Started reports whether the filter has an orientation.
func (f *Filter) Started() bool { return f.started }

// Quat returns the orientation (w, x, y, z): body to world (ENU, true
// north with the declination applied).
func (f *Filter) Quat() [4]float64 { return qmul(f.decl, f.q) }

// Offset returns the gyroscope offset estimate in rad/s.
func (f *Filter) Offset() [3]float64 { return f.offset }

// Rejected reports whether the last update rejected the accelerometer
// and the magnetometer.
func (f *Filter) Rejected() (accel, mag bool) { return f.accRej, f.magRej }

// Update advances the filter by dt seconds with the gyroscope (rad/s),
// the accelerometer (any unit: only its direction counts) and, when mag
// is non-nil and the mode is 9-axis, the magnetometer (µT). It reports
// whether the filter has an orientation afterwards. A 9-axis filter starts
// only once it has a magnetometer reading.
func (f *Filter) Update(gyro, accel [3]float64, mag *[3]float64, dt float64) bool {
	if f.opts.Mode != NineAxis {
		mag = nil
	}
	an := norm(accel)
	if !f.started {
		if an == 0 || (f.opts.Mode == NineAxis && mag == nil) {
			return false
		}
		return f.start(accel, mag)
	}
	if !(dt > 0) || dt > maxDt || math.IsNaN(an) {
		// A gap (or a clock gone wrong): the orientation is stale.
		f.Reset()
		return f.Update(gyro, accel, mag, 0)
	}
	f.t += dt
	if f.accRejT > f.opts.RecoveryTime || f.magRejT > f.opts.RecoveryTime {
		// Rejected too long: the estimate may be what is wrong. Start the
		// ramp again, which accepts everything while it converges.
		f.t, f.accRejT, f.magRejT = 0, 0, 0
	}
	gain, ki := f.opts.Gain, f.opts.IntegralGain
	ramping := f.t < f.opts.StartupTime
	if ramping {
		gain += (startGain - gain) * (1 - f.t/f.opts.StartupTime)
		ki = 0
	}

	// Estimated up in the body frame: the third row of R(q).
	w, x, y, z := f.q[0], f.q[1], f.q[2], f.q[3]
	up := [3]float64{2 * (x*z - w*y), 2 * (y*z + w*x), 1 - 2*(x*x+y*y)}

	var e [3]float64
	f.accRej = false
	if an > 0 {
		a := scale(accel, 1/an)
		ea := cross(a, up)
		f.lastError[0] = math.Atan2(norm(ea), dot(a, up))
		if ramping || dot(a, up) >= f.cosAccRej {
			e = ea
			f.accRejT = 0
		} else {
			f.accRej = true
			f.accRejT += dt
		}
	}

	f.magRej, f.magUsed = false, false
	if mag != nil {
		if east, fs, ok := eastOf(*mag, accel); ok {
			// Estimated east in the body frame: the first row of R(q).
			estEast := [3]float64{1 - 2*(y*y+z*z), 2 * (x*y - w*z), 2 * (x*z + w*y)}
			em := cross(east, estEast)
			// Only its part along up: the heading.
			h := dot(em, up)
			f.lastError[1] = math.Asin(min(math.Abs(h), 1))
			fieldOK := math.Abs(fs-f.refField) <= fieldMargin*f.refField
			if ramping || (math.Abs(h) <= f.sinMagRej && fieldOK) {
				e = add(e, scale(up, h))
				f.magRejT = 0
				f.magUsed = true
				if ramping {
					f.refField += (fs - f.refField) * min(dt/0.5, 1)
				}
			} else {
				f.magRej = true
				f.magRejT += dt
			}
		}
	}

	// Offset at rest: the gyroscope reads only its offset.
	rest := true
	restRate := f.opts.RestRateDPS * math.Pi / 180
	for i := range 3 {
		if math.Abs(gyro[i]-f.offset[i]) > restRate {
			rest = false
		}
	}
	if rest {
		f.restT += dt
	} else {
		f.restT = 0
	}
	if f.restT >= f.opts.RestTime && !f.accRej {
		k := min(dt/restTau, 1)
		for i := range 3 {
			f.offset[i] += (gyro[i] - f.offset[i]) * k
		}
	}
	var omega [3]float64
	for i := range 3 {
		if ki > 0 && !f.accRej {
			f.offset[i] = clamp(f.offset[i]-ki*e[i]*dt, maxOffset)
		}
		omega[i] = gyro[i] - f.offset[i] + gain*e[i]
	}
	f.integrate(omega, dt)
	return true
}

// start sets the orientation from the accelerometer and, when given, the
// magnetometer; without one the heading is that of the body's x axis.
func (f *Filter) start(accel [3]float64, mag *[3]float64) bool {
	up := scale(accel, 1/norm(accel))
	var east [3]float64
	ok := false
	if mag != nil {
		var fs float64
		east, fs, ok = eastOf(*mag, accel)
		f.refField = fs
	}
	if !ok {
		if mag != nil {
			return false // a field along gravity: no heading from it
		}
		// Body x projected on the horizontal is east (yaw 0); if x is
		// vertical, body y is north.
		bx := [3]float64{1, 0, 0}
		h := add(bx, scale(up, -dot(bx, up)))
		if norm(h) < 1e-3 {
			h = cross([3]float64{0, 1, 0}, up)
		}
		east = scale(h, 1/norm(h))
	}
	north := cross(up, east)
	// R's rows are the world axes seen in the body frame.
	f.q = matToQuat([3][3]float64{east, north, up})
	f.started = true
	f.t, f.accRejT, f.magRejT = 0, 0, 0
	return true
}

// eastOf returns east in the body frame from the field m and up a: m × a
// (the field points north and down), its field strength, and whether the
// two are far enough from parallel to tell.
func eastOf(m, a [3]float64) (east [3]float64, strength float64, ok bool) {
	strength = norm(m)
	an := norm(a)
	c := cross(m, a)
	n := norm(c)
	if strength == 0 || an == 0 || n < 0.05*strength*an || math.IsNaN(n) {
		return east, strength, false
	}
	return scale(c, 1/n), strength, true
}

// integrate turns q by the body rate omega for dt: q ← q ⊗ exp(ω dt / 2).
func (f *Filter) integrate(omega [3]float64, dt float64) {
	th := norm(omega) * dt / 2
	var dq [4]float64
	if th < 1e-9 {
		dq = [4]float64{1, omega[0] * dt / 2, omega[1] * dt / 2, omega[2] * dt / 2}
	} else {
		s, c := math.Sincos(th)
		k := s / norm(omega)
		dq = [4]float64{c, omega[0] * k, omega[1] * k, omega[2] * k}
	}
	q := qmul(f.q, dq)
	n := math.Sqrt(q[0]*q[0] + q[1]*q[1] + q[2]*q[2] + q[3]*q[3])
	if !(n > 0) || math.IsInf(n, 0) {
		f.Reset()
		return
	}
	for i := range q {
		q[i] /= n
	}
	if q[0] < 0 { // one of the two signs, for readers that compare
		for i := range q {
			q[i] = -q[i]
		}
	}
	f.q = q
}

func qmul(a, b [4]float64) [4]float64 {
	return [4]float64{
		a[0]*b[0] - a[1]*b[1] - a[2]*b[2] - a[3]*b[3],
		a[0]*b[1] + a[1]*b[0] + a[2]*b[3] - a[3]*b[2],
		a[0]*b[2] - a[1]*b[3] + a[2]*b[0] + a[3]*b[1],
		a[0]*b[3] + a[1]*b[2] - a[2]*b[1] + a[3]*b[0],
	}
}

// matToQuat converts a rotation matrix to a unit quaternion with w ≥ 0
// (Shepperd's method: the largest diagonal term, for accuracy).
func matToQuat(m [3][3]float64) [4]float64 {
	tr := m[0][0] + m[1][1] + m[2][2]
	var q [4]float64
	switch {
	case tr > 0:
		s := 2 * math.Sqrt(1+tr)
		q = [4]float64{s / 4, (m[2][1] - m[1][2]) / s, (m[0][2] - m[2][0]) / s, (m[1][0] - m[0][1]) / s}
	case m[0][0] > m[1][1] && m[0][0] > m[2][2]:
		s := 2 * math.Sqrt(1+m[0][0]-m[1][1]-m[2][2])
		q = [4]float64{(m[2][1] - m[1][2]) / s, s / 4, (m[0][1] + m[1][0]) / s, (m[0][2] + m[2][0]) / s}
	case m[1][1] > m[2][2]:
		s := 2 * math.Sqrt(1+m[1][1]-m[0][0]-m[2][2])
		q = [4]float64{(m[0][2] - m[2][0]) / s, (m[0][1] + m[1][0]) / s, s / 4, (m[1][2] + m[2][1]) / s}
	default:
		s := 2 * math.Sqrt(1+m[2][2]-m[0][0]-m[1][1])
		q = [4]float64{(m[1][0] - m[0][1]) / s, (m[0][2] + m[2][0]) / s, (m[1][2] + m[2][1]) / s, s / 4}
	}
	n := math.Sqrt(q[0]*q[0] + q[1]*q[1] + q[2]*q[2] + q[3]*q[3])
	if q[0] < 0 {
		n = -n
	}
	for i := range q {
		q[i] /= n
	}
	return q
}

// Euler returns roll, pitch and yaw (ZYX, radians) of the unit quaternion
// q: R(q) = Rz(yaw)·Ry(pitch)·Rx(roll).
func Euler(q [4]float64) [3]float64 {
	w, x, y, z := q[0], q[1], q[2], q[3]
	roll := math.Atan2(2*(w*x+y*z), 1-2*(x*x+y*y))
	pitch := math.Asin(max(-1, min(1, 2*(w*y-x*z))))
	yaw := math.Atan2(2*(w*z+x*y), 1-2*(y*y+z*z))
	return [3]float64{roll, pitch, yaw}
}

func dot(a, b [3]float64) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
func norm(a [3]float64) float64   { return math.Sqrt(dot(a, a)) }
func cross(a, b [3]float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}
func scale(a [3]float64, k float64) [3]float64 { return [3]float64{a[0] * k, a[1] * k, a[2] * k} }
func add(a, b [3]float64) [3]float64 {
	return [3]float64{a[0] + b[0], a[1] + b[1], a[2] + b[2]}
}
func clamp(v, m float64) float64 { return max(-m, min(m, v)) }
