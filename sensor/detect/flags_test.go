package detect

import (
	"flag"
	"io"
	"testing"
)

func TestRegisterFlags(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.RegisterFlags(fs)
	c.RegisterStreamFlags(fs)
	if c.Bus != DefaultBus || c.Addr != 0 || !c.Pressure || !c.Mag || c.FIFO != FIFOAuto {
		t.Errorf("defaults: %+v", c)
	}
	if err := fs.Parse([]string{"--addr", "0x69", "--accel-range", "8", "--fifo", "on", "--mag=false"}); err != nil {
		t.Fatal(err)
	}
	if c.Addr != 0x69 || c.AccelRangeG != 8 || c.FIFO != FIFOOn || c.Mag {
		t.Errorf("parsed: %+v", c)
	}
}
