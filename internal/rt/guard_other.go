//go:build !(amd64 || arm || arm64)

package rt

func yieldRequested() bool { return false }

const canSeeYieldRequests = false
