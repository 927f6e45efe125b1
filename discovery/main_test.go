package discovery

import (
	"testing"

	"github.com/imustream/imustream/internal/leaktest"
)

func TestMain(m *testing.M) { leaktest.Main(m) }
