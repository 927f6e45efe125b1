package calib

import (
	"flag"
	"io"
	"testing"
)

func TestFlags(t *testing.T) {
	parse := func(args ...string) *Flags {
		var f Flags
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f.RegisterFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return &f
	}
	if c, err := parse().Load(); c != nil || err != nil {
		t.Errorf("no flags: %v, %v; want nothing", c, err)
	}
	// The identity given is a mounting too: it differs from none.
	c, err := parse("--mount", "x=x,y=y,z=z").Load()
	if err != nil || c == nil {
		t.Fatalf("--mount x=x,y=y,z=z: %v, %v; want a calibration", c, err)
	}
	c, err = parse("--mount", "x=-y,y=x,z=z").Load()
	if err != nil || c == nil || c.Mounting.String() != "x=-y,y=x,z=z" {
		t.Errorf("--mount x=-y,y=x,z=z: %v, %v", c, err)
	}
	if _, err := parse("--calibration", "testdata/none.json").Load(); err == nil {
		t.Error("a missing calibration file: no error")
	}
}
