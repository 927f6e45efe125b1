#include "textflag.h"

// func stackGuard() uintptr: the calling goroutine's stackguard0, the word
// every function's stack check compares with (at 2 words into the g).
TEXT ·stackGuard(SB),NOSPLIT,$0-8
	MOVQ (TLS), AX
	MOVQ 16(AX), AX
	MOVQ AX, ret+0(FP)
	RET
