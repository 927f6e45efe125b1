package calib

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Mounting is the rotation from the sensor frame to the body frame. The
// zero value is the identity.
type Mounting struct {
	r   [3][3]float64
	set bool
}

var identity = [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}

// Identity is the mounting of a sensor whose axes are the body's.
var Identity = Mounting{}

const axisNames = "xyz"

// ParseMounting parses named axes such as "x=-y,y=x,z=z": for each body
// axis, the signed sensor axis that points the same way. Spaces and case do
// not matter; "" and "identity" are the identity. A 3×3 matrix in JSON,
// "[[0,-1,0],[1,0,0],[0,0,1]]", is accepted too.
func ParseMounting(s string) (Mounting, error) {
	t := strings.ToLower(strings.Join(strings.Fields(s), ""))
	if t == "" || t == "identity" {
		return Mounting{}, nil
	}
	if strings.HasPrefix(t, "[") {
		var m [3][3]float64
		if err := json.Unmarshal([]byte(t), &m); err != nil {
			return Mounting{}, fmt.Errorf("calib: mounting matrix %q: %w", s, err)
		}
		return MountingMatrix(m)
	}
	var r [3][3]float64
	var body, src [3]bool
	parts := strings.Split(t, ",")
	if len(parts) != 3 {
		return Mounting{}, fmt.Errorf("calib: mounting %q: want three assignments like \"x=-y,y=x,z=z\" (body axis = signed sensor axis)", s)
	}
	for _, p := range parts {
		lhs, rhs, ok := strings.Cut(p, "=")
		sign := 1.0
		if strings.HasPrefix(rhs, "-") {
			sign, rhs = -1, rhs[1:]
		} else {
			rhs = strings.TrimPrefix(rhs, "+")
		}
		b, a := strings.Index(axisNames, lhs), strings.Index(axisNames, rhs)
		if !ok || len(lhs) != 1 || len(rhs) != 1 || b < 0 || a < 0 {
			return Mounting{}, fmt.Errorf("calib: mounting %q: bad assignment %q; want body axis = signed sensor axis, e.g. \"x=-y\"", s, p)
		}
		if body[b] {
			return Mounting{}, fmt.Errorf("calib: mounting %q: body axis %s assigned twice", s, lhs)
		}
		if src[a] {
			return Mounting{}, fmt.Errorf("calib: mounting %q: sensor axis %s used twice", s, rhs)
		}
		body[b], src[a] = true, true
		r[b][a] = sign
	}
	if err := checkRotation(r); err != nil {
		return Mounting{}, fmt.Errorf("calib: mounting %q: %w", s, err)
	}
	return Mounting{r: r, set: true}, nil
}

// MountingMatrix returns the mounting with rows R[i] = body axis i in sensor
// coordinates (v_body = R · v_sensor). R must be a rotation: orthonormal to
// within 1e-3 with determinant +1.
func MountingMatrix(r [3][3]float64) (Mounting, error) {
	if err := checkRotation(r); err != nil {
		return Mounting{}, fmt.Errorf("calib: mounting matrix %s: %w", fmtMatrix(r), err)
	}
	return Mounting{r: r, set: true}, nil
}

// ErrNotRotation is wrapped when a mounting is not a proper rotation.
var ErrNotRotation = errors.New("not a rotation")

func checkRotation(r [3][3]float64) error {
	for i := range 3 {
		for j := range 3 {
			if math.IsNaN(r[i][j]) || math.IsInf(r[i][j], 0) {
				return fmt.Errorf("%w: non-finite element", ErrNotRotation)
			}
			var dot float64
			for k := range 3 {
				dot += r[i][k] * r[j][k]
			}
			if math.Abs(dot-identity[i][j]) > 1e-3 {
				return fmt.Errorf("%w: row %d · row %d = %.4g; each row must be a unit vector at right angles to the others", ErrNotRotation, i, j, dot)
			}
		}
	}
	if d := det(r); d < 0 {
		return fmt.Errorf("%w: a reflection (determinant %.3g); negate one axis, e.g. z=-z", ErrNotRotation, d)
	}
	return nil
}

func det(r [3][3]float64) float64 {
	return r[0][0]*(r[1][1]*r[2][2]-r[1][2]*r[2][1]) -
		r[0][1]*(r[1][0]*r[2][2]-r[1][2]*r[2][0]) +
		r[0][2]*(r[1][0]*r[2][1]-r[1][1]*r[2][0])
}

// axesString names a signed permutation matrix, or returns "".
func axesString(r [3][3]float64) string {
	var parts []string
	for b := range 3 {
		n := 0
		for a := range 3 {
			switch r[b][a] {
			case 0:
			case 1, -1:
				n++
				p := axisNames[b:b+1] + "="
				if r[b][a] < 0 {
					p += "-"
				}
				parts = append(parts, p+axisNames[a:a+1])
			default:
				return ""
			}
		}
		if n != 1 {
			return ""
		}
	}
	return strings.Join(parts, ",")
}

func fmtMatrix(r [3][3]float64) string {
	b, _ := json.Marshal(r)
	return string(b)
}

// Matrix returns R, v_body = R · v_sensor.
func (m Mounting) Matrix() [3][3]float64 {
	if !m.set {
		return identity
	}
	return m.r
}

// IsZero reports whether m is the zero value (the identity); it lets JSON
// omit it.
func (m Mounting) IsZero() bool { return !m.set }

// String returns the named-axes form when the rotation is a signed axis
// permutation, else the matrix as JSON.
func (m Mounting) String() string {
	r := m.Matrix()
	if s := axesString(r); s != "" {
		return s
	}
	return fmtMatrix(r)
}

// Set implements flag.Value with ParseMounting's syntax.
func (m *Mounting) Set(s string) error {
	v, err := ParseMounting(s)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// SensorUp returns the sensor-frame direction of the body's +z axis: the
// up direction to give Opts.Up when the body lies level.
func (m Mounting) SensorUp() [3]float64 { return m.Matrix()[2] }

// MarshalJSON writes named axes when they describe m, else the matrix.
func (m Mounting) MarshalJSON() ([]byte, error) {
	if s := axesString(m.Matrix()); s != "" {
		return json.Marshal(s)
	}
	return json.Marshal(m.r)
}

// UnmarshalJSON reads either form and validates it.
func (m *Mounting) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		return m.Set(s)
	}
	var r [3][3]float64
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("calib: mounting must be named axes like \"x=-y,y=x,z=z\" or a 3×3 matrix: %w", err)
	}
	v, err := MountingMatrix(r)
	if err != nil {
		return err
	}
	*m = v
	return nil
}
