package sim

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrSyntax is wrapped by the errors of the Parse functions.
var ErrSyntax = errors.New("sim: bad option")

// Motions lists what ParseMotion takes, for help texts.
const Motions = "rocking (seeded, the default), still, scripted or tumble"

// ParseMotion reads a motion name into opts: "rocking" (the seeded
// default), "still" (Still), "scripted" (Scripted) or "tumble" (Tumble).
func ParseMotion(s string, opts *Opts) error {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "rocking":
		opts.Still, opts.Scripted, opts.Tumble = false, false, false
	case "still":
		opts.Still, opts.Scripted, opts.Tumble = true, false, false
	case "scripted":
		opts.Still, opts.Scripted, opts.Tumble = false, true, false
	case "tumble":
		opts.Still, opts.Scripted, opts.Tumble = false, false, true
	default:
		return fmt.Errorf("%w: motion %q; want %s", ErrSyntax, s, Motions)
	}
	return nil
}

// ParsePose reads "roll=R,pitch=P,yaw=Y" in degrees (any subset, any
// order; the others 0) into radians.
func ParsePose(s string) ([3]float64, error) {
	var out [3]float64
	vals, err := keyValues(s, "roll", "pitch", "yaw")
	if err != nil {
		return out, err
	}
	for i, v := range vals {
		if math.Abs(v) > 360 {
			return out, fmt.Errorf("%w: pose %q: angles are degrees, -360 to 360", ErrSyntax, s)
		}
		out[i] = v * deg
	}
	if math.Abs(out[1]) >= 89*deg {
		return out, fmt.Errorf("%w: pose %q: pitch must be within ±89° (the Euler angles are singular at ±90°)", ErrSyntax, s)
	}
	return out, nil
}

// ParseField reads "strength=S,inclination=I,declination=D" (µT and
// degrees; any subset, the others DefaultField's).
func ParseField(s string) (Field, error) {
	given, err := keyValuesGiven(s, "strength", "inclination", "declination")
	if err != nil {
		return Field{}, err
	}
	f := DefaultField
	for k, v := range given {
		switch k {
		case 0:
			f.StrengthUT = v
		case 1:
			f.InclinationDeg = v
		case 2:
			f.DeclinationDeg = v
		}
	}
	if !(f.StrengthUT > 0 && f.StrengthUT <= 1000) || math.Abs(f.InclinationDeg) > 90 || math.Abs(f.DeclinationDeg) > 180 {
		return Field{}, fmt.Errorf("%w: field %q: strength 0 to 1000 µT, inclination ±90°, declination ±180°", ErrSyntax, s)
	}
	return f, nil
}

// ParseFloats reads n comma-separated finite numbers.
func ParseFloats(s string, n int) ([]float64, error) {
	parts := strings.Split(s, ",")
	if len(parts) != n {
		return nil, fmt.Errorf("%w: %q: want %d comma-separated numbers", ErrSyntax, s, n)
	}
	out := make([]float64, n)
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w: %q: %q is not a number", ErrSyntax, s, p)
		}
		out[i] = v
	}
	return out, nil
}

func keyValues(s string, keys ...string) ([3]float64, error) {
	var out [3]float64
	given, err := keyValuesGiven(s, keys...)
	for k, v := range given {
		out[k] = v
	}
	return out, err
}

func keyValuesGiven(s string, keys ...string) (map[int]float64, error) {
	given := map[int]float64{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		i := -1
		for j, name := range keys {
			if strings.EqualFold(strings.TrimSpace(k), name) {
				i = j
			}
		}
		if !ok || i < 0 {
			return nil, fmt.Errorf("%w: %q: want %s=NUMBER, comma-separated", ErrSyntax, s, strings.Join(keys, "=…, "))
		}
		if _, dup := given[i]; dup {
			return nil, fmt.Errorf("%w: %q: %s given twice", ErrSyntax, s, keys[i])
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%w: %q: %s=%q is not a number", ErrSyntax, s, keys[i], v)
		}
		given[i] = x
	}
	return given, nil
}

// ParseHardIron reads a hard-iron offset X,Y,Z in µT (Opts.HardIron).
func ParseHardIron(s string) (v [3]float64, err error) {
	f, err := ParseFloats(s, 3)
	if err == nil {
		copy(v[:], f)
	}
	return v, err
}

// ParseSoftIron reads a soft-iron matrix, 9 numbers M11,M12,…,M33 by rows
// (Opts.SoftIron).
func ParseSoftIron(s string) (m [3][3]float64, err error) {
	f, err := ParseFloats(s, 9)
	for i := range f {
		m[i/3][i%3] = f[i]
	}
	return m, err
}
