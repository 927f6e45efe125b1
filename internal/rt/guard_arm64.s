#include "textflag.h"

// func stackGuard() uintptr: see guard_amd64.s.
TEXT ·stackGuard(SB),NOSPLIT,$0-8
	MOVD 16(g), R0
	MOVD R0, ret+0(FP)
	RET
