package daemon_test

import (
	"testing"

	"github.com/imustream/imustream/internal/leaktest"
)

// One TestMain serves both test packages of the directory.
func TestMain(m *testing.M) { leaktest.Main(m) }
