//go:build amd64 || arm || arm64

package rt

// stackGuard returns the calling goroutine's stackguard0 (assembly: the
// word's place in the g is fixed by the compiler, which reads it in every
// function's stack check).
//
//go:noescape
func stackGuard() uintptr

// yieldRequested reports whether the runtime has asked the calling
// goroutine to yield and it has not yet seen the request: the runtime then
// sets stackguard0 to stackPreempt (runtime/stack.go), so that the next
// stack check traps. It must be called before any such check would see
// the request.
//
//go:nosplit
func yieldRequested() bool { return stackGuard() == stackPreempt }

// stackPreempt is the runtime's value of it: uintptrMask & -1314.
const stackPreempt = ^uintptr(1313)

const canSeeYieldRequests = true
