package main

import (
	"context"
	"io"

	"github.com/imustream/imustream/bridge"
)

// followDiscovered is filled in by the discovery work.
func followDiscovered(ctx context.Context, b *bridge.Bridge, w io.Writer) {}
