package rig

import (
	"net/netip"
	"testing"

	"github.com/imustream/imustream/internal/leaktest"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

func mustAP(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
