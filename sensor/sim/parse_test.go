package sim

import (
	"errors"
	"math"
	"testing"
)

func TestParsePose(t *testing.T) {
	p, err := ParsePose("roll=10, pitch=-5,yaw=30")
	if err != nil || math.Abs(p[0]-10*deg) > 1e-12 || math.Abs(p[1]+5*deg) > 1e-12 || math.Abs(p[2]-30*deg) > 1e-12 {
		t.Errorf("%v %v", p, err)
	}
	if p, err := ParsePose("YAW=90"); err != nil || p != [3]float64{0, 0, 90 * deg} {
		t.Errorf("%v %v", p, err)
	}
	for _, bad := range []string{"", "roll", "roll=x", "tilt=3", "roll=1,roll=2", "pitch=90", "yaw=1e9", "roll=NaN"} {
		if _, err := ParsePose(bad); !errors.Is(err, ErrSyntax) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestParseFieldMotionFloats(t *testing.T) {
	f, err := ParseField("declination=3,strength=48")
	if err != nil || f != (Field{StrengthUT: 48, InclinationDeg: DefaultField.InclinationDeg, DeclinationDeg: 3}) {
		t.Errorf("%+v %v", f, err)
	}
	for _, bad := range []string{"strength=0", "inclination=91", "x=1"} {
		if _, err := ParseField(bad); !errors.Is(err, ErrSyntax) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	var o Opts
	if err := ParseMotion("scripted", &o); err != nil || !o.Scripted || o.Still {
		t.Error(o, err)
	}
	if err := ParseMotion("Still", &o); err != nil || o.Scripted || !o.Still {
		t.Error(o, err)
	}
	if err := ParseMotion("wobbly", &o); !errors.Is(err, ErrSyntax) {
		t.Error(err)
	}
	if v, err := ParseFloats("1, -2.5,3", 3); err != nil || v[1] != -2.5 {
		t.Error(v, err)
	}
	if _, err := ParseFloats("1,2", 3); !errors.Is(err, ErrSyntax) {
		t.Error(err)
	}
	if v, err := ParseHardIron("20,-35,12"); err != nil || v != [3]float64{20, -35, 12} {
		t.Error(v, err)
	}
	if m, err := ParseSoftIron("1,0,0,0,2,0,0,0,3"); err != nil || m != [3][3]float64{{1, 0, 0}, {0, 2, 0}, {0, 0, 3}} {
		t.Error(m, err)
	}
	if _, err := ParseSoftIron("1,2,3"); !errors.Is(err, ErrSyntax) {
		t.Error(err)
	}
}
