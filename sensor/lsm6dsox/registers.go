package lsm6dsox

// Register addresses (LSM6DSOX datasheet 9; the same on the LSM6DSO,
// ISM330DHCX and, but for the FIFO, the LSM6DS3TR-C: see below).
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

// The LSM6DS3TR-C's FIFO (DocID030071 9.4–9.8, 9.53–9.58; AN5130 8):
// untagged 16-bit words in a repeating pattern.
const (
	regPatFIFOCtrl2   = 0x07 // TIMER_PEDO_FIFO_EN … FIFO_TEMP_EN FTH[10:8]
	regPatFIFOCtrl3   = 0x08 // DEC_FIFO_GYRO[2:0] DEC_FIFO_XL[2:0]
	regPatFIFOCtrl4   = 0x09 // STOP_ON_FTH ONLY_HIGH_DATA DEC_DS4_FIFO[2:0] DEC_DS3_FIFO[2:0]
	regPatFIFOCtrl5   = 0x0A // ODR_FIFO[3:0] FIFO_MODE[2:0]
	regPatFIFOStatus1 = 0x3A // DIFF_FIFO[7:0]; STATUS2, 3, 4 follow.
	regPatFIFOData    = 0x3E // FIFO_DATA_OUT_L, FIFO_DATA_OUT_H
)

// LSM6DS3TR-C FIFO bits.
const (
	patCtrl2TempEn  = 1 << 3           // temperature as the 4th data set
	patCtrl3NoDec   = 0b001<<3 | 0b001 // gyroscope and accelerometer at the FIFO ODR
	patModeBypass   = 0b000            // empties the FIFO
	patModeCont     = 0b110            // continuous: the newest overwrite the oldest
	patStatus2Over  = 1 << 6           // OVER_RUN (DIFF_FIFO then reads 0)
	patStatus2Empty = 1 << 4           // FIFO_EMPTY
	patStatus2Diff  = 0b111            // DIFF_FIFO[10:8]
	patStatus4Mask  = 0b11             // FIFO_PATTERN[9:8]
	patBufWords     = fifoBufLen / 2   // one burst, in words
	patSetWords     = 3                // a data set: X, Y, Z (6 bytes)
	patMaxDec       = 32               // the largest decimation factor
	patMaxLen       = 6*patMaxDec + 3  // the longest pattern used
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

// fifoWords bounds one tagged FIFO burst: 128 samples, 64 ms at 2 kHz.
const fifoWords = 256

// fifoBufLen is the FIFO burst buffer: 256 tagged words (1792 bytes) or
// 1024 LSM6DS3TR-C words.
const fifoBufLen = 2048
