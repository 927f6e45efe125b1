package detect

import (
	"testing"

	"github.com/imustream/imustream/internal/leaktest"
)

// Device.Read takes the pressure from a barometer goroutine, which Halt
// must stop.
func TestMain(m *testing.M) { leaktest.Main(m) }
