package calib

import (
	"errors"
	"fmt"
	"math"

	"github.com/imustream/imustream/sensor"
)

// The magnetometer's calibration: a hard-iron offset h (µT) and a
// soft-iron correction M, applied as m' = M·(m − h) before the mounting.
// An ellipsoid fitted to readings taken while the device turns in every
// direction gives both: the readings of a constant field seen through
// fixed iron lie on an ellipsoid centred at h, and M maps it onto a sphere.

// MagCal is the magnetometer part of a calibration file.
type MagCal struct {
	// Offset is subtracted from the field, µT, sensor frame.
	Offset Vec3 `json:"offset_ut"`
	// Matrix multiplies the field after the offset: symmetric, scaled so
	// that the corrected field has the fitted strength. Zero means the
	// identity.
	Matrix [3]Vec3 `json:"matrix,omitzero"`
	// FieldUT, ResidualPct, CoveragePct and Samples describe the fit
	// (MagReport); informative.
	FieldUT     float64 `json:"field_ut,omitempty"`
	ResidualPct float64 `json:"residual_pct,omitempty"`
	CoveragePct float64 `json:"coverage_pct,omitempty"`
	Samples     int     `json:"samples,omitempty"`
}

func (m *MagCal) matrix() [3][3]float64 {
	if m.Matrix == ([3]Vec3{}) {
		return [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}
	}
	return [3][3]float64{m.Matrix[0], m.Matrix[1], m.Matrix[2]}
}

// validate checks that m can be applied: finite, and a matrix that is
// not far from a rotation times a scale (soft iron bends the field by tens
// of per cent, not by factors).
func (m *MagCal) validate() error {
	mat := m.matrix()
	for i := range 3 {
		for _, v := range []float64{m.Offset[i], mat[i][0], mat[i][1], mat[i][2]} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return errors.New("calib: mag: non-finite value")
			}
		}
	}
	if math.Abs(m.Offset[0])+math.Abs(m.Offset[1])+math.Abs(m.Offset[2]) > 10000 {
		return fmt.Errorf("calib: mag: offset %v µT beyond any magnetometer's range", m.Offset)
	}
	ev, _ := symEigen(mulT(mat))
	if !(ev[0] > 0) || math.Sqrt(ev[2]/ev[0]) > MaxAxisRatio {
		return fmt.Errorf("calib: mag: matrix %v is singular or stretches one axis more than %g times another", m.Matrix, MaxAxisRatio)
	}
	return nil
}

// MaxAxisRatio bounds the ratio of the longest to the shortest axis of a
// fitted ellipsoid: iron that distorts more than that is not soft-iron
// distortion but a magnet, or the fit is wrong.
const MaxAxisRatio = 4.0

// MagOpts are the fit's limits. Zero fields take DefaultMagOpts's.
type MagOpts struct {
	// MinSamples is the fewest readings the fit takes.
	MinSamples int
	// MinCoverage is the least share of the 26 directions (the faces,
	// edges and corners of a cube around the device) in which the
	// corrected field must have pointed, 0 to 1.
	MinCoverage float64
	// MaxResidual is the largest RMS deviation of the corrected field's
	// strength from the fitted one, as a share of it.
	MaxResidual float64
}

// DefaultMagOpts: 200 readings, 70 % of the directions (a device turned
// about one axis only covers 8 of 26, about a third), 5 % residual.
var DefaultMagOpts = MagOpts{MinSamples: 200, MinCoverage: 0.7, MaxResidual: 0.05}

// MagReport is the quality of a fit.
type MagReport struct {
	N           int     // readings used
	FieldUT     float64 // fitted field strength
	ResidualPct float64 // RMS deviation of |corrected| from FieldUT, %
	CoveragePct float64 // directions covered, % of 26
	Covered     int     // directions covered, of 26
	AxisRatio   float64 // longest/shortest axis of the raw ellipsoid
}

// Errors of the fit.
var (
	ErrMagCoverage = errors.New("calib: mag: readings cover too few directions; turn the device in every direction (upside down too) while it records")
	ErrMagFit      = errors.New("calib: mag: the readings do not lie on an ellipsoid")
)

// MagAccumulator collects magnetometer readings for FitMag.
type MagAccumulator struct {
	m       [][3]float64
	skipped int
}

// Add takes s's field when it has a fresh one (StatusMag, no overflow)
// and reports whether it did. Repeated readings (a magnetometer slower
// than the sample rate) are taken once.
func (a *MagAccumulator) Add(s *sensor.Sample) bool {
	if s.Status&(sensor.StatusMag|sensor.StatusMagOverflow|sensor.StatusSensorError) != sensor.StatusMag {
		a.skipped++
		return false
	}
	v := [3]float64{float64(s.Mag[0]), float64(s.Mag[1]), float64(s.Mag[2])}
	if n := len(a.m); n > 0 && a.m[n-1] == v {
		return false
	}
	a.m = append(a.m, v)
	return true
}

// N returns the readings collected.
func (a *MagAccumulator) N() int { return len(a.m) }

// Fit fits the readings collected (FitMag).
func (a *MagAccumulator) Fit(opts *MagOpts) (MagCal, MagReport, error) {
	return FitMag(a.m, opts)
}

// FitMag fits an ellipsoid to magnetometer readings (µT) by linear least
// squares on the general quadric ax² + by² + cz² + 2dxy + 2exz + 2fyz +
// 2gx + 2hy + 2iz = 1, and returns its centre as the offset and the
// symmetric square root of its shape matrix, scaled to the mean radius,
// as the correction. It refuses readings that cover too few directions,
// that are not an ellipsoid, or that scatter too far from it. A rotation
// inside the soft iron cannot be seen from the field's strength: the
// correction is the symmetric one.
func FitMag(m [][3]float64, opts *MagOpts) (MagCal, MagReport, error) {
	o := DefaultMagOpts
	if opts != nil {
		if opts.MinSamples > 0 {
			o.MinSamples = opts.MinSamples
		}
		if opts.MinCoverage > 0 {
			o.MinCoverage = opts.MinCoverage
		}
		if opts.MaxResidual > 0 {
			o.MaxResidual = opts.MaxResidual
		}
	}
	rep := MagReport{N: len(m)}
	if len(m) < o.MinSamples {
		return MagCal{}, rep, fmt.Errorf("calib: mag: %d readings, need at least %d", len(m), o.MinSamples)
	}
	// Centre and scale the data first for a well-conditioned system.
	var mean [3]float64
	for _, v := range m {
		for i := range 3 {
			mean[i] += v[i] / float64(len(m))
		}
	}
	var sc float64
	for _, v := range m {
		for i := range 3 {
			sc += (v[i] - mean[i]) * (v[i] - mean[i])
		}
	}
	sc = math.Sqrt(sc / float64(len(m)))
	if !(sc >= minSpreadUT) {
		// The earth's field is 25 to 65 µT: turned about, the readings
		// spread by about that much; lying still, by the noise.
		return MagCal{}, rep, fmt.Errorf("%w (the field moved by %.2g µT RMS: the device was hardly turned)", ErrMagCoverage, sc)
	}
	// Coverage before the fit, around the mean: a ring or a cap is
	// refused before it can make a degenerate fit look good.
	if cov := coverage(m, mean, identity3); float64(cov)/26 < o.MinCoverage {
		rep.Covered, rep.CoveragePct = cov, 100*float64(cov)/26
		return MagCal{}, rep, fmt.Errorf("%w (%d of 26 directions, %.0f %%; need %.0f %%)", ErrMagCoverage, cov, rep.CoveragePct, 100*o.MinCoverage)
	}
	var ata [9][9]float64
	var atb [9]float64
	for _, v := range m {
		x, y, z := (v[0]-mean[0])/sc, (v[1]-mean[1])/sc, (v[2]-mean[2])/sc
		row := [9]float64{x * x, y * y, z * z, 2 * x * y, 2 * x * z, 2 * y * z, 2 * x, 2 * y, 2 * z}
		for i := range 9 {
			atb[i] += row[i]
			for j := range 9 {
				ata[i][j] += row[i] * row[j]
			}
		}
	}
	p, ok := solve9(ata, atb)
	if !ok {
		return MagCal{}, rep, fmt.Errorf("%w: singular system (the readings span too little)", ErrMagFit)
	}
	q := [3][3]float64{{p[0], p[3], p[4]}, {p[3], p[1], p[5]}, {p[4], p[5], p[2]}}
	qi, ok := inv3(q)
	if !ok {
		return MagCal{}, rep, fmt.Errorf("%w: degenerate quadric", ErrMagFit)
	}
	g := [3]float64{p[6], p[7], p[8]}
	var c [3]float64 // centre, scaled units
	for i := range 3 {
		c[i] = -(qi[i][0]*g[0] + qi[i][1]*g[1] + qi[i][2]*g[2])
	}
	k := 1 + (c[0]*(q[0][0]*c[0]+q[0][1]*c[1]+q[0][2]*c[2]) + c[1]*(q[1][0]*c[0]+q[1][1]*c[1]+q[1][2]*c[2]) + c[2]*(q[2][0]*c[0]+q[2][1]*c[1]+q[2][2]*c[2]))
	if !(k > 0) {
		return MagCal{}, rep, fmt.Errorf("%w: not an ellipsoid", ErrMagFit)
	}
	// Shape matrix in µT: (x−h)ᵀ A (x−h) = 1 with A = q/(k·sc²).
	var a [3][3]float64
	for i := range 3 {
		for j := range 3 {
			a[i][j] = q[i][j] / (k * sc * sc)
		}
	}
	ev, vec := symEigen(a)
	if !(ev[0] > 0) {
		return MagCal{}, rep, fmt.Errorf("%w: not an ellipsoid (a hyperboloid: eigenvalues %.3g)", ErrMagFit, ev)
	}
	rep.AxisRatio = math.Sqrt(ev[2] / ev[0])
	if rep.AxisRatio > MaxAxisRatio {
		return MagCal{}, rep, fmt.Errorf("%w: one axis %.1f times another (a magnet nearby, or too little turning)", ErrMagFit, rep.AxisRatio)
	}
	// Mean radius r = (det A)^(−1/6); M = r · A^(1/2).
	r := math.Pow(ev[0]*ev[1]*ev[2], -1.0/6)
	var mat [3][3]float64
	for i := range 3 {
		for j := range 3 {
			for l := range 3 {
				mat[i][j] += vec[i][l] * math.Sqrt(ev[l]) * vec[j][l]
			}
			mat[i][j] *= r
		}
	}
	var h Vec3
	for i := range 3 {
		h[i] = mean[i] + c[i]*sc
	}
	cal := MagCal{Offset: h, Matrix: [3]Vec3{mat[0], mat[1], mat[2]}}
	// Quality: the corrected strengths, and coverage after correction.
	var ss float64
	for _, v := range m {
		u := mulVec3(mat, [3]float64{v[0] - h[0], v[1] - h[1], v[2] - h[2]})
		d := (math.Sqrt(u[0]*u[0]+u[1]*u[1]+u[2]*u[2]) - r) / r
		ss += d * d
	}
	rep.FieldUT = r
	rep.ResidualPct = 100 * math.Sqrt(ss/float64(len(m)))
	rep.Covered = coverage(m, h, mat)
	rep.CoveragePct = 100 * float64(rep.Covered) / 26
	cal.FieldUT, cal.ResidualPct, cal.CoveragePct, cal.Samples = r, rep.ResidualPct, rep.CoveragePct, len(m)
	if rep.ResidualPct > 100*o.MaxResidual {
		return MagCal{}, rep, fmt.Errorf("%w: the corrected field varies by %.1f %% RMS (at most %.0f %%): iron moved, or something magnetic was near", ErrMagFit, rep.ResidualPct, 100*o.MaxResidual)
	}
	if float64(rep.Covered)/26 < o.MinCoverage {
		return MagCal{}, rep, fmt.Errorf("%w (%d of 26 directions after correction, %.0f %%; need %.0f %%)", ErrMagCoverage, rep.Covered, rep.CoveragePct, 100*o.MinCoverage)
	}
	return cal, rep, nil
}

// minSpreadUT is the least RMS spread of the readings around their mean.
const minSpreadUT = 5

var identity3 = [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}

// coverage counts the 26 cube directions (faces, edges, corners) that at
// least 3 of the corrected readings point nearest to.
func coverage(m [][3]float64, centre [3]float64, mat [3][3]float64) int {
	var dirs [26][3]float64
	n := 0
	for x := -1; x <= 1; x++ {
		for y := -1; y <= 1; y++ {
			for z := -1; z <= 1; z++ {
				if x == 0 && y == 0 && z == 0 {
					continue
				}
				l := math.Sqrt(float64(x*x + y*y + z*z))
				dirs[n] = [3]float64{float64(x) / l, float64(y) / l, float64(z) / l}
				n++
			}
		}
	}
	var hits [26]int
	for _, v := range m {
		u := mulVec3(mat, [3]float64{v[0] - centre[0], v[1] - centre[1], v[2] - centre[2]})
		best, bi := -2.0, 0
		for i, d := range dirs {
			if dd := u[0]*d[0] + u[1]*d[1] + u[2]*d[2]; dd > best {
				best, bi = dd, i
			}
		}
		hits[bi]++
	}
	c := 0
	for _, h := range hits {
		if h >= 3 {
			c++
		}
	}
	return c
}

func mulVec3(m [3][3]float64, v [3]float64) [3]float64 {
	return [3]float64{
		m[0][0]*v[0] + m[0][1]*v[1] + m[0][2]*v[2],
		m[1][0]*v[0] + m[1][1]*v[1] + m[1][2]*v[2],
		m[2][0]*v[0] + m[2][1]*v[1] + m[2][2]*v[2],
	}
}

// mulT returns mᵀ·m.
func mulT(m [3][3]float64) [3][3]float64 {
	var out [3][3]float64
	for i := range 3 {
		for j := range 3 {
			for k := range 3 {
				out[i][j] += m[k][i] * m[k][j]
			}
		}
	}
	return out
}

// solve9 solves a·x = b by Gaussian elimination with partial pivoting.
func solve9(a [9][9]float64, b [9]float64) ([9]float64, bool) {
	var x [9]float64
	scale := 0.0
	for i := range 9 {
		scale = max(scale, math.Abs(a[i][i]))
	}
	for col := range 9 {
		p := col
		for r := col + 1; r < 9; r++ {
			if math.Abs(a[r][col]) > math.Abs(a[p][col]) {
				p = r
			}
		}
		if !(math.Abs(a[p][col]) > 1e-12*scale) {
			return x, false
		}
		a[col], a[p] = a[p], a[col]
		b[col], b[p] = b[p], b[col]
		for r := col + 1; r < 9; r++ {
			f := a[r][col] / a[col][col]
			for c := col; c < 9; c++ {
				a[r][c] -= f * a[col][c]
			}
			b[r] -= f * b[col]
		}
	}
	for i := 8; i >= 0; i-- {
		s := b[i]
		for j := i + 1; j < 9; j++ {
			s -= a[i][j] * x[j]
		}
		x[i] = s / a[i][i]
	}
	return x, true
}

func inv3(m [3][3]float64) ([3][3]float64, bool) {
	var r [3][3]float64
	det := m[0][0]*(m[1][1]*m[2][2]-m[1][2]*m[2][1]) - m[0][1]*(m[1][0]*m[2][2]-m[1][2]*m[2][0]) + m[0][2]*(m[1][0]*m[2][1]-m[1][1]*m[2][0])
	if !(math.Abs(det) > 1e-300) {
		return r, false
	}
	for i := range 3 {
		for j := range 3 {
			a, b := (j+1)%3, (j+2)%3
			c, d := (i+1)%3, (i+2)%3
			r[i][j] = (m[a][c]*m[b][d] - m[a][d]*m[b][c]) / det
		}
	}
	return r, true
}

// symEigen returns the eigenvalues of the symmetric m in ascending order
// and the eigenvectors as columns (cyclic Jacobi rotations).
func symEigen(m [3][3]float64) ([3]float64, [3][3]float64) {
	v := identity3
	a := m
	for range 50 {
		off := a[0][1]*a[0][1] + a[0][2]*a[0][2] + a[1][2]*a[1][2]
		if off < 1e-30*(a[0][0]*a[0][0]+a[1][1]*a[1][1]+a[2][2]*a[2][2]+1e-300) {
			break
		}
		for p := range 2 {
			for q := p + 1; q < 3; q++ {
				if a[p][q] == 0 {
					continue
				}
				th := (a[q][q] - a[p][p]) / (2 * a[p][q])
				t := math.Copysign(1, th) / (math.Abs(th) + math.Sqrt(th*th+1))
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := range 3 { // a = Jᵀ a J
					akp, akq := a[k][p], a[k][q]
					a[k][p], a[k][q] = c*akp-s*akq, s*akp+c*akq
				}
				for k := range 3 {
					apk, aqk := a[p][k], a[q][k]
					a[p][k], a[q][k] = c*apk-s*aqk, s*apk+c*aqk
				}
				for k := range 3 {
					vkp, vkq := v[k][p], v[k][q]
					v[k][p], v[k][q] = c*vkp-s*vkq, s*vkp+c*vkq
				}
			}
		}
	}
	ev := [3]float64{a[0][0], a[1][1], a[2][2]}
	// Sort ascending, columns along.
	for i := range 3 {
		for j := i + 1; j < 3; j++ {
			if ev[j] < ev[i] {
				ev[i], ev[j] = ev[j], ev[i]
				for k := range 3 {
					v[k][i], v[k][j] = v[k][j], v[k][i]
				}
			}
		}
	}
	return ev, v
}
