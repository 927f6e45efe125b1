package daemon

import (
	"reflect"
	"testing"

	"github.com/imustream/imustream/internal/rt"
)

// The text form is the flag's, both ways; "-1" is the old spelling of none.
func TestCPUsText(t *testing.T) {
	for _, tc := range []struct {
		text string
		cpus CPUs
	}{
		{"auto", CPUs{Auto: true}},
		{"none", CPUs{}},
		{"1", CPUs{List: []int{1}}},
		{"3,2", CPUs{List: []int{3, 2}}},
	} {
		if got := tc.cpus.String(); got != tc.text {
			t.Errorf("%+v: %q, want %q", tc.cpus, got, tc.text)
		}
		var c CPUs
		if err := c.UnmarshalText([]byte(tc.text)); err != nil || !reflect.DeepEqual(c, tc.cpus) {
			t.Errorf("UnmarshalText(%q) = %+v, %v; want %+v", tc.text, c, err, tc.cpus)
		}
	}
	for _, bad := range []string{"", "x", "-2", "1,1", "1,", "all", "1024"} {
		var c CPUs
		if err := c.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("UnmarshalText(%q) = %+v, want an error", bad, c)
		}
	}
}

func TestCPUsResolve(t *testing.T) {
	if cpus, pin, err := (CPUs{List: []int{3}}).Resolve(); err != nil || !reflect.DeepEqual(cpus, []int{3}) || pin {
		t.Errorf("a list: %v %v %v", cpus, pin, err)
	}
	last, err := rt.LastCPUs(2)
	if err != nil {
		t.Fatal(err)
	}
	cpus, pin, err := (CPUs{Auto: true}).Resolve()
	if err != nil || !pin {
		t.Fatalf("auto: %v %v %v", cpus, pin, err)
	}
	if len(last) == 2 && !reflect.DeepEqual(cpus, last[1:]) || len(last) < 2 && cpus != nil {
		t.Errorf("auto: %v, want the last CPU of %v, or none with one CPU", cpus, last)
	}
	var c CPUs
	if err := c.Set("-1"); err != nil || c.Auto || c.List != nil {
		t.Errorf(`"-1": %+v %v, want none`, c, err)
	}
}
