#include "textflag.h"

// func stackGuard() uintptr: see guard_amd64.s.
TEXT ·stackGuard(SB),NOSPLIT,$0-4
	MOVW 8(g), R0
	MOVW R0, ret+0(FP)
	RET
