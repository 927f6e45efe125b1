package sim

import (
	"errors"
	"math"
	"testing"
)

// FuzzParseOptions feeds the simulator's option parsers arbitrary text:
// each returns a value within its documented range or an error wrapping
// ErrSyntax, never a panic.
func FuzzParseOptions(f *testing.F) {
	for _, s := range []string{"roll=10,pitch=-5,yaw=30", "yaw=1e2", "strength=48,inclination=-60,declination=3", "1,2,3", "1,0,0,0,1,0,0,0,1", "", ",", "roll=", "=1", "roll=1,,", "pitch=89", "ROLL=0x10", "roll=Inf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := ParsePose(s); err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("ParsePose(%q): %v", s, err)
			}
		} else if math.Abs(p[1]) >= 89*deg || math.Abs(p[0]) > 2*math.Pi || math.Abs(p[2]) > 2*math.Pi {
			t.Fatalf("ParsePose(%q) = %v", s, p)
		}
		if fld, err := ParseField(s); err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("ParseField(%q): %v", s, err)
			}
		} else if !(fld.StrengthUT > 0) || math.Abs(fld.InclinationDeg) > 90 {
			t.Fatalf("ParseField(%q) = %+v", s, fld)
		}
		for _, n := range []int{3, 9} {
			v, err := ParseFloats(s, n)
			if err != nil {
				if !errors.Is(err, ErrSyntax) {
					t.Fatalf("ParseFloats(%q): %v", s, err)
				}
				continue
			}
			for _, x := range v {
				if len(v) != n || math.IsNaN(x) || math.IsInf(x, 0) {
					t.Fatalf("ParseFloats(%q, %d) = %v", s, n, v)
				}
			}
		}
		var o Opts
		if err := ParseMotion(s, &o); err != nil && !errors.Is(err, ErrSyntax) {
			t.Fatal(err)
		}
	})
}
