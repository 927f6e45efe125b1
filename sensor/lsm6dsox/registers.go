package lsm6dsox

// Register addresses (LSM6DSOX datasheet 9; the same on the LSM6DSO,
// ISM330DHCX and, but for the FIFO, the LSM6DS3TR-C).
const (
	regFIFOCtrl3   = 0x09 // BDR_GY[3:0] BDR_XL[3:0]
	regFIFOCtrl4   = 0x0A // DEC_TS_BATCH ODR_T_BATCH[1:0] FIFO_MODE[2:0]
	regWhoAmI      = 0x0F
	regCtrl1XL     = 0x10 // ODR_XL[3:0] FS_XL[1:0]
	regCtrl2G      = 0x11 // ODR_G[3:0] FS_G[1:0] FS_125 FS_4000
	regCtrl3C      = 0x12 // BOOT BDU … IF_INC … SW_RESET
	regOutTempL    = 0x20 // First of the 14-byte burst.
	regFIFOStatus1 = 0x3A // DIFF_FIFO[7:0]; FIFO_STATUS2 follows.
	regFIFOTag     = 0x78 // FIFO_DATA_OUT_TAG, then X_L … Z_H.
)

// CTRL3_C bits.
const (
	ctrl3BDU     = 1 << 6
	ctrl3IfInc   = 1 << 2
	ctrl3SWReset = 1 << 0
)

// CTRL2_G bits beside FS_G.
const (
	ctrl2FS125  = 1 << 1
	ctrl2FS4000 = 1 << 0 // ISM330DHCX only
)

// FIFO_CTRL4: temperature batched at 52 Hz (ODR_T_BATCH 11) and the FIFO
// mode.
const (
	fifoCtrl4Temp52Hz = 0b11 << 4
	fifoModeBypass    = 0b000
	fifoModeCont      = 0b110
)

// FIFO_STATUS2 bits.
const (
	fifoStatus2Ovr  = 1 << 6 // FIFO_OVR_IA
	fifoStatus2Diff = 0b11   // DIFF_FIFO[9:8]
)

// FIFO word tags (TAG_SENSOR, bits 7:3 of the tag byte).
const (
	tagGyro  = 0x01
	tagAccel = 0x02
	tagTemp  = 0x03
	wordLen  = 7
)

// WHO_AM_I values.
const (
	whoAmIDSO    = 0x6C // LSM6DSO, LSM6DSOX
	whoAmIDS3TRC = 0x6A
	whoAmIISM330 = 0x6B // ISM330DHCX
)

// I²C addresses.
const (
	AddrLow  uint16 = 0x6A
	AddrHigh uint16 = 0x6B
)

const burstLen = 14

// fifoWords bounds one FIFO burst: 128 samples, 64 ms at 2 kHz.
const fifoWords = 256
