package telemetry

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/imustream/imustream/sensor"
)

// Hex fragments of the golden table, one field per line. Everything after
// '#' is a comment.
const (
	hdrOne = `
49 4d 55 53  # magic
01 01 01 34  # version 1, type samples, count 1, sample_len 52
c2 19 3f 7a  # session 0x7a3f19c2
e8 03 00 00  # seq 1000
c8 00        # rate_hz 200
00 00        # reserved
`
	recOneHead = `
20 2b ce 73 3a 0b 00 00  # t_mono_ns 12345678900000
15 cd 55 f5 51 72 86 18  # t_wall_ns 1767225600123456789
40 77 1b 00              # late_ns 1800000
02 00                    # flags: late
00 00                    # reserved
00 00 00 3e              # accel x 0.125
00 00 80 be              # accel y -0.25
0a e8 1c 41              # accel z 9.80665
6f 12 83 3a              # gyro x 0.001
6f 12 03 bb              # gyro y -0.002
6f 12 03 3a              # gyro z 0.0005
`
	recOne = recOneHead + `
00 00 fc 41              # temp_c 31.5
`
	// recPHead is recOneHead with the pressure flag.
	recPHead = `
20 2b ce 73 3a 0b 00 00  # t_mono_ns 12345678900000
15 cd 55 f5 51 72 86 18  # t_wall_ns 1767225600123456789
40 77 1b 00              # late_ns 1800000
22 00                    # flags: late, pressure
00 00                    # reserved
00 00 00 3e              # accel x 0.125
00 00 80 be              # accel y -0.25
0a e8 1c 41              # accel z 9.80665
6f 12 83 3a              # gyro x 0.001
6f 12 03 bb              # gyro y -0.002
6f 12 03 3a              # gyro z 0.0005
`
	// recMQ is sampleMQ: a 9-axis fused sample from a board with a
	// barometer, as an 84-byte record.
	recMQ = `
20 2b ce 73 3a 0b 00 00  # t_mono_ns 12345678900000
15 cd 55 f5 51 72 86 18  # t_wall_ns 1767225600123456789
40 77 1b 00              # late_ns 1800000
e2 00                    # flags: late, pressure, mag, orientation
00 00                    # reserved
00 00 00 3e 00 00 80 be 0a e8 1c 41  # accel 0.125 -0.25 9.80665
6f 12 83 3a 6f 12 03 bb 6f 12 03 3a  # gyro 0.001 -0.002 0.0005
00 00 fc 41              # temp_c 31.5
80 e6 c5 47              # pressure_pa 101325
5c 8f d2 40 ec 51 20 41 f6 28 42 c2  # mag 6.58 10.02 -48.54 µT
86 d9 75 3f 22 48 c3 3d a5 39 9f bc fd c3 85 3e  # quat 0.9603504 0.095352426 -0.019436667 0.2612609
`
	recB0 = `
a8 3e ce 73 3a 0b 00 00  # t_mono_ns 12345678905000
55 18 a2 f5 51 72 86 18  # t_wall_ns 1767225600128456789
39 30 00 00              # late_ns 12345
00 00 00 00              # flags 0, reserved
00 00 00 3f 00 00 40 bf 00 00 1d 41  # accel 0.5 -0.75 9.8125
00 00 80 3d 00 00 00 00 00 00 80 bd  # gyro 0.0625 0 -0.0625
00 00 f2 41              # temp_c 30.25
`
)

var (
	hdrOneWant = Header{Version: 1, Type: TypeSamples, Count: 1, SampleLen: 52, Session: 0x7a3f19c2, Seq: 1000, RateHz: 200}
	sampleOne  = sensor.Sample{
		MonoNs: 12_345_678_900_000,
		WallNs: 1_767_225_600_123_456_789,
		LateNs: 1_800_000,
		Status: sensor.StatusLate,
		Accel:  [3]float32{0.125, -0.25, 9.80665},
		Gyro:   [3]float32{0.001, -0.002, 0.0005},
		TempC:  31.5,
	}
	// sampleP is sampleOne from a board with a barometer.
	sampleP = func() sensor.Sample {
		s := sampleOne
		s.Status |= sensor.StatusPressure
		s.PressurePa = 101325
		return s
	}()
	// sampleMQ is sampleP with a field and the orientation roll 10°,
	// pitch −5°, yaw 30°.
	sampleMQ = func() sensor.Sample {
		s := sampleP
		s.Status |= sensor.StatusMag | sensor.StatusOrientation
		s.Mag = [3]float32{6.58, 10.02, -48.54}
		s.Quat = [4]float32{0.9603504, 0.095352426, -0.019436667, 0.2612609}
		return s
	}()
	sampleB0 = sensor.Sample{
		MonoNs: 12_345_678_905_000,
		WallNs: 1_767_225_600_128_456_789,
		LateNs: 12345,
		Accel:  [3]float32{0.5, -0.75, 9.8125},
		Gyro:   [3]float32{0.0625, 0, -0.0625},
		TempC:  30.25,
	}
)

type goldenCase struct {
	name string
	hex  string
	want Datagram // when err is nil
	err  error
	// decodeOnly: the encoder writes other bytes for want (longer records,
	// reserved bits set), so only the decode direction applies.
	decodeOnly bool
	// pressure: encoded by AppendDatagramPressure (56-byte records).
	pressure bool
	// magQuat: encoded by AppendDatagramMagQuat (84-byte records).
	magQuat bool
}

var golden = []goldenCase{
	{
		name: "one sample with field and orientation", // docs/protocol.md
		hex: `
49 4d 55 53 01 01 01 54  # magic, version 1, type samples, count 1, sample_len 84
c2 19 3f 7a e8 03 00 00  # session, seq 1000
c8 00 00 00              # rate_hz 200, reserved
` + recMQ,
		want:    Datagram{Header: Header{Version: 1, Type: TypeSamples, Count: 1, SampleLen: 84, Session: 0x7a3f19c2, Seq: 1000, RateHz: 200}, Samples: []sensor.Sample{sampleMQ}},
		magQuat: true,
	},
	{
		name: "max batch with field and orientation",
		hex: "49 4d 55 53 01 01 0e 54 c2 19 3f 7a e8 03 00 00 c8 00 00 00 # count 14, sample_len 84\n" +
			strings.Repeat(recMQ, MaxBatchMagQuat),
		want: Datagram{
			Header:  Header{Version: 1, Type: TypeSamples, Count: MaxBatchMagQuat, SampleLen: 84, Session: 0x7a3f19c2, Seq: 1000, RateHz: 200},
			Samples: repeatSample(sampleMQ, MaxBatchMagQuat),
		},
		magQuat: true,
	},
	{
		name: "field and orientation without their flags are ignored",
		hex: `
49 4d 55 53 01 01 02 54  # count 2, sample_len 84
c2 19 3f 7a e8 03 00 00 c8 00 00 00
` + recPHead + `
00 00 fc 41              # temp_c 31.5
80 e6 c5 47              # pressure_pa 101325
5c 8f d2 40 ec 51 20 41 f6 28 42 c2  # mag, but flag bit 6 clear
86 d9 75 3f 22 48 c3 3d a5 39 9f bc fd c3 85 3e  # quat, but flag bit 7 clear
` + recB0 + `
00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  # pressure, mag x, y, z: 0
00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  # quat: 0
`,
		want: Datagram{Header: Header{Version: 1, Type: TypeSamples, Count: 2, SampleLen: 84, Session: 0x7a3f19c2, Seq: 1000, RateHz: 200},
			Samples: []sensor.Sample{sampleP, sampleB0}},
		decodeOnly: true,
	},
	{
		name: "sample_len 88: field, orientation and an unknown field",
		hex: `
49 4d 55 53 01 01 01 58  # count 1, sample_len 88
c2 19 3f 7a e8 03 00 00 c8 00 00 00
` + recMQ + `
a5 a5 a5 a5              # a field from the future: skipped
`,
		want:       Datagram{Header: Header{Version: 1, Type: TypeSamples, Count: 1, SampleLen: 88, Session: 0x7a3f19c2, Seq: 1000, RateHz: 200}, Samples: []sensor.Sample{sampleMQ}},
		decodeOnly: true,
	},
	{
		name: "one sample", // also the worked example in docs/protocol.md
		hex:  hdrOne + recOne,
		want: Datagram{Header: hdrOneWant, Samples: []sensor.Sample{sampleOne}},
	},
	{
		name: "batch of 3 across seq wrap",
		hex: `
49 4d 55 53 01 01 03 34  # magic, version 1, type samples, count 3, sample_len 52
ee ff c0 00              # session 0x00c0ffee
fe ff ff ff              # seq 2^32-2: the batch has seq 2^32-2, 2^32-1, 0
c8 00 00 00              # rate_hz 200, reserved
` + recB0 + `
68 20 b3 74 3a 0b 00 00  # t_mono_ns 12345693905000 (15 ms later: 2 ticks skipped)
15 fa 86 f6 51 72 86 18  # t_wall_ns 1767225600143456789
50 97 31 00              # late_ns 3250000
06 00 00 00              # flags: late, skipped; reserved
00 00 00 3f 00 00 40 bf 00 00 1d 41  # accel 0.5 -0.75 9.8125
00 00 80 3d 00 00 00 00 00 00 80 bd  # gyro 0.0625 0 -0.0625
00 00 f2 41              # temp_c 30.25

a8 6b ff 74 3a 0b 00 00  # t_mono_ns 12345698905000
55 45 d3 f6 51 72 86 18  # t_wall_ns 1767225600148456789
ff ff ff ff              # late_ns saturated
19 00 00 00              # flags: sensor error, saturated, reinit; reserved
00 e0 1c 43 00 e0 1c c3 00 00 00 00  # accel 156.875 -156.875 0
00 a0 0b c2 00 a0 0b 42 00 00 00 00  # gyro -34.90625 34.90625 0
00 00 f4 41              # temp_c 30.5
`,
		want: Datagram{
			Header: Header{Version: 1, Type: TypeSamples, Count: 3, SampleLen: 52, Session: 0x00c0ffee, Seq: 0xfffffffe, RateHz: 200},
			Samples: []sensor.Sample{
				sampleB0,
				{
					MonoNs: 12_345_693_905_000,
					WallNs: 1_767_225_600_143_456_789,
					LateNs: 3_250_000,
					Status: sensor.StatusLate | sensor.StatusSkipped,
					Accel:  [3]float32{0.5, -0.75, 9.8125},
					Gyro:   [3]float32{0.0625, 0, -0.0625},
					TempC:  30.25,
				},
				{
					MonoNs: 12_345_698_905_000,
					WallNs: 1_767_225_600_148_456_789,
					LateNs: math.MaxUint32,
					Status: sensor.StatusSensorError | sensor.StatusSaturated | sensor.StatusReinit,
					Accel:  [3]float32{156.875, -156.875, 0},
					Gyro:   [3]float32{-34.90625, 34.90625, 0},
					TempC:  30.5,
				},
			},
		},
	},
	{
		name: "end of stream",
		hex: `
49 4d 55 53 01 02 00 34  # magic, version 1, type end, count 0, sample_len 52
c2 19 3f 7a              # session 0x7a3f19c2
e9 03 00 00              # seq 1001: the next sample would have had it
c8 00 00 00              # rate_hz 200, reserved
`,
		want: Datagram{Header: Header{Version: 1, Type: TypeEnd, Count: 0, SampleLen: 52, Session: 0x7a3f19c2, Seq: 1001, RateHz: 200}},
	},
	{
		name: "extreme values",
		hex: `
49 4d 55 53 01 01 01 34  # magic, version 1, type samples, count 1, sample_len 52
00 00 00 00 00 00 00 00  # session 0, seq 0
00 00 00 00              # rate_hz 0, reserved
ff ff ff ff ff ff ff 7f  # t_mono_ns max int64
00 00 00 00 00 00 00 80  # t_wall_ns min int64
00 00 00 00              # late_ns 0
ff ff 00 00              # flags: all bits (reserved ones are passed through); reserved
00 00 00 80 00 00 80 7f 00 00 80 ff  # accel -0 +Inf -Inf
00 00 c0 7f 01 00 00 00 ff ff 7f 7f  # gyro NaN, smallest denormal, max float32
00 00 20 c2              # temp_c -40
`,
		want: Datagram{
			Header: Header{Version: 1, Type: TypeSamples, Count: 1, SampleLen: 52},
			Samples: []sensor.Sample{{
				MonoNs: math.MaxInt64,
				WallNs: math.MinInt64,
				Status: 0xffff,
				Accel:  [3]float32{float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1))},
				Gyro:   [3]float32{math.Float32frombits(0x7fc00000), math.Float32frombits(1), math.MaxFloat32},
				TempC:  -40,
			}},
		},
	},
	{
		name: "max batch",
		hex:  "49 4d 55 53 01 01 16 34 c2 19 3f 7a e8 03 00 00 c8 00 00 00 # count 22\n" + strings.Repeat(recOne, MaxBatch),
		want: Datagram{
			Header:  Header{Version: 1, Type: TypeSamples, Count: MaxBatch, SampleLen: 52, Session: 0x7a3f19c2, Seq: 1000, RateHz: 200},
			Samples: repeatSample(sampleOne, MaxBatch),
		},
	},
	{
		name: "sample_len 60 with unknown trailing bytes",
		hex: `
49 4d 55 53 01 01 02 3c  # magic, version 1, type samples, count 2, sample_len 60
c2 19 3f 7a e8 03 00 00  # session, seq 1000
c8 00 00 00              # rate_hz 200, reserved
` + recOne + `
a5 a5 a5 a5 a5 a5 a5 a5  # a field from the future: skipped
` + recB0 + `
5a 5a 5a 5a 5a 5a 5a 5a  # a field from the future: skipped
`,
		want: Datagram{
			Header:  Header{Version: 1, Type: TypeSamples, Count: 2, SampleLen: 60, Session: 0x7a3f19c2, Seq: 1000, RateHz: 200},
			Samples: []sensor.Sample{sampleOne, sampleB0},
		},
		decodeOnly: true,
	},
	{
		name: "max batch of sample_len 255",
		hex: "49 4d 55 53 01 01 16 ff c2 19 3f 7a e8 03 00 00 c8 00 00 00 # count 22, sample_len 255\n" +
			strings.Repeat(recOne+hexZeros(255-SampleLen), MaxBatch),
		want: Datagram{
			Header:  Header{Version: 1, Type: TypeSamples, Count: MaxBatch, SampleLen: 255, Session: 0x7a3f19c2, Seq: 1000, RateHz: 200},
			Samples: repeatSample(sampleOne, MaxBatch),
		},
		decodeOnly: true,
	},
	{
		name: "one sample with pressure", // also the pressure example in docs/protocol.md
		hex: `
49 4d 55 53 01 01 01 38  # magic, version 1, type samples, count 1, sample_len 56
c2 19 3f 7a e8 03 00 00  # session 0x7a3f19c2, seq 1000
c8 00 00 00              # rate_hz 200, reserved
` + recPHead + `
00 00 fc 41              # temp_c 31.5
80 e6 c5 47              # pressure_pa 101325
`,
		want:     Datagram{Header: Header{Version: 1, Type: TypeSamples, Count: 1, SampleLen: 56, Session: 0x7a3f19c2, Seq: 1000, RateHz: 200}, Samples: []sensor.Sample{sampleP}},
		pressure: true,
	},
	{
		name: "pressure not valid is sent as 0",
		hex: `
49 4d 55 53 01 01 02 38  # magic, version 1, type samples, count 2, sample_len 56
c2 19 3f 7a e8 03 00 00  # session, seq 1000
c8 00 00 00              # rate_hz 200, reserved
` + recPHead + `
00 00 fc 41              # temp_c 31.5
80 e6 c5 47              # pressure_pa 101325
` + recB0 + `
00 00 00 00              # pressure_pa 0: flag clear (barometer stale)
`,
		want: Datagram{
			Header:  Header{Version: 1, Type: TypeSamples, Count: 2, SampleLen: 56, Session: 0x7a3f19c2, Seq: 1000, RateHz: 200},
			Samples: []sensor.Sample{sampleP, sampleB0},
		},
		pressure: true,
	},
	{
		name: "max batch with pressure",
		hex: "49 4d 55 53 01 01 15 38 c2 19 3f 7a e8 03 00 00 c8 00 00 00 # count 21, sample_len 56\n" +
			strings.Repeat(recPHead+"00 00 fc 41 80 e6 c5 47\n", MaxBatchPressure),
		want: Datagram{
			Header:  Header{Version: 1, Type: TypeSamples, Count: MaxBatchPressure, SampleLen: 56, Session: 0x7a3f19c2, Seq: 1000, RateHz: 200},
			Samples: repeatSample(sampleP, MaxBatchPressure),
		},
		pressure: true,
	},
	{
		name: "pressure field without its flag is ignored",
		hex: `
49 4d 55 53 01 01 01 38  # magic, version 1, type samples, count 1, sample_len 56
c2 19 3f 7a e8 03 00 00  # session, seq 1000
c8 00 00 00              # rate_hz 200, reserved
` + recOne + `
80 e6 c5 47              # pressure_pa 101325, but flag bit 5 clear
`,
		want:       Datagram{Header: Header{Version: 1, Type: TypeSamples, Count: 1, SampleLen: 56, Session: 0x7a3f19c2, Seq: 1000, RateHz: 200}, Samples: []sensor.Sample{sampleOne}},
		decodeOnly: true,
	},
	{
		name: "sample_len 60 with pressure and an unknown field",
		hex: `
49 4d 55 53 01 01 01 3c  # magic, version 1, type samples, count 1, sample_len 60
c2 19 3f 7a e8 03 00 00  # session, seq 1000
c8 00 00 00              # rate_hz 200, reserved
` + recPHead + `
00 00 fc 41              # temp_c 31.5
80 e6 c5 47              # pressure_pa 101325
a5 a5 a5 a5              # a field from the future: skipped
`,
		want:       Datagram{Header: Header{Version: 1, Type: TypeSamples, Count: 1, SampleLen: 60, Session: 0x7a3f19c2, Seq: 1000, RateHz: 200}, Samples: []sensor.Sample{sampleP}},
		decodeOnly: true,
	},
	{
		name: "unknown flags and reserved bytes set are ignored",
		hex: `
49 4d 55 53 01 01 01 34  # magic, version 1, type samples, count 1, sample_len 52
c2 19 3f 7a e8 03 00 00  # session, seq 1000
c8 00 fe ff              # rate_hz 200, header flags: all but tagged
20 2b ce 73 3a 0b 00 00  # t_mono_ns
15 cd 55 f5 51 72 86 18  # t_wall_ns
40 77 1b 00              # late_ns
02 00 ab cd              # flags: late; reserved set
00 00 00 3e 00 00 80 be 0a e8 1c 41  # accel
6f 12 83 3a 6f 12 03 bb 6f 12 03 3a  # gyro
00 00 fc 41              # temp_c
`,
		want:       Datagram{Header: withFlags(hdrOneWant, 0xfffe), Samples: []sensor.Sample{sampleOne}},
		decodeOnly: true,
	},

	// Bad datagrams, one group per error.
	{name: "empty", hex: "", err: ErrShort},
	{name: "header cut short", hex: "49 4d 55 53 01 01 01 34 c2 19 3f 7a e8 03 00 00 c8 00 00", err: ErrShort},
	{name: "magic lower case", hex: "69 6d 75 73 01 01 01 34 c2 19 3f 7a e8 03 00 00 c8 00 00 00" + recOne, err: ErrMagic},
	{name: "magic of another protocol", hex: "fd 09 00 00 00 01 01 00 00 00 00 00 00 00 00 00 00 00 00 00", err: ErrMagic},
	{name: "version 0", hex: "49 4d 55 53 00 01 01 34 c2 19 3f 7a e8 03 00 00 c8 00 00 00" + recOne, err: ErrVersion},
	{name: "version 2", hex: "49 4d 55 53 02 01 01 34 c2 19 3f 7a e8 03 00 00 c8 00 00 00" + recOne, err: ErrVersion},
	{name: "type 0", hex: "49 4d 55 53 01 00 01 34 c2 19 3f 7a e8 03 00 00 c8 00 00 00" + recOne, err: ErrType},
	{name: "type 3", hex: "49 4d 55 53 01 03 00 34 c2 19 3f 7a e8 03 00 00 c8 00 00 00", err: ErrType},
	{name: "samples with count 0", hex: "49 4d 55 53 01 01 00 34 c2 19 3f 7a e8 03 00 00 c8 00 00 00", err: ErrCount},
	{
		name: "samples with count 23 and all its bytes",
		hex:  "49 4d 55 53 01 01 17 34 c2 19 3f 7a e8 03 00 00 c8 00 00 00" + strings.Repeat(recOne, 23),
		err:  ErrCount,
	},
	{name: "samples with count 255", hex: "49 4d 55 53 01 01 ff 34 c2 19 3f 7a e8 03 00 00 c8 00 00 00", err: ErrCount},
	{name: "end with count 1", hex: "49 4d 55 53 01 02 01 34 c2 19 3f 7a e9 03 00 00 c8 00 00 00" + recOne, err: ErrCount},
	{name: "sample_len 51", hex: "49 4d 55 53 01 01 01 33 c2 19 3f 7a e8 03 00 00 c8 00 00 00" + recOneHead + "00 00 fc", err: ErrSampleLen},
	{name: "sample_len 0", hex: "49 4d 55 53 01 01 01 00 c2 19 3f 7a e8 03 00 00 c8 00 00 00", err: ErrSampleLen},
	{name: "end with sample_len 0", hex: "49 4d 55 53 01 02 00 00 c2 19 3f 7a e9 03 00 00 c8 00 00 00", err: ErrSampleLen},
	{name: "record cut short", hex: hdrOne + recOneHead + "00 00 fc", err: ErrLength},
	{name: "trailing byte", hex: hdrOne + recOne + "00", err: ErrLength},
	{name: "header only", hex: hdrOne, err: ErrLength},
	{name: "two datagrams in one", hex: hdrOne + recOne + hdrOne + recOne, err: ErrLength},
	{name: "end with trailing bytes", hex: "49 4d 55 53 01 02 00 34 c2 19 3f 7a e9 03 00 00 c8 00 00 00 00 00 00 00", err: ErrLength},
	{
		name: "sample_len 56 but 52-byte records",
		hex:  "49 4d 55 53 01 01 01 38 c2 19 3f 7a e8 03 00 00 c8 00 00 00" + recOne,
		err:  ErrLength,
	},
	{
		name: "sample_len 60 but 52-byte records",
		hex:  "49 4d 55 53 01 01 01 3c c2 19 3f 7a e8 03 00 00 c8 00 00 00" + recOne,
		err:  ErrLength,
	},
	{
		// Count is within MaxBatch, but 22 records of 255 bytes need far
		// more than the largest v1 datagram.
		name: "count 22 of sample_len 255 cut at MaxDatagramLen",
		hex:  "49 4d 55 53 01 01 16 ff c2 19 3f 7a e8 03 00 00 c8 00 00 00" + hexZeros(MaxDatagramLen-HeaderLen),
		err:  ErrLength,
	},
}

func hexZeros(n int) string { return strings.Repeat("00 ", n) + "\n" }

func repeatSample(s sensor.Sample, n int) []sensor.Sample {
	ss := make([]sensor.Sample, n)
	for i := range ss {
		ss[i] = s
	}
	return ss
}

// unhex decodes hex bytes separated by white space, with '#' comments.
func unhex(s string) ([]byte, error) {
	var b strings.Builder
	for line := range strings.Lines(s) {
		line, _, _ = strings.Cut(line, "#")
		b.WriteString(strings.Join(strings.Fields(line), ""))
	}
	return hex.DecodeString(b.String())
}

func mustUnhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := unhex(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sampleDiff compares floats by bits, so NaN equals NaN and -0 differs from 0.
func sampleDiff(got, want *sensor.Sample) string {
	g, w := *got, *want
	for i := range 3 {
		if math.Float32bits(g.Accel[i]) != math.Float32bits(w.Accel[i]) ||
			math.Float32bits(g.Gyro[i]) != math.Float32bits(w.Gyro[i]) {
			return fmt.Sprintf("got %+v, want %+v", g, w)
		}
		g.Accel[i], g.Gyro[i], w.Accel[i], w.Gyro[i] = 0, 0, 0, 0
	}
	if math.Float32bits(g.TempC) != math.Float32bits(w.TempC) || math.Float32bits(g.PressurePa) != math.Float32bits(w.PressurePa) {
		return fmt.Sprintf("got %+v, want %+v", *got, *want)
	}
	g.TempC, w.TempC, g.PressurePa, w.PressurePa = 0, 0, 0, 0
	for i := range 4 {
		if i < 3 && math.Float32bits(g.Mag[i]) != math.Float32bits(w.Mag[i]) ||
			math.Float32bits(g.Quat[i]) != math.Float32bits(w.Quat[i]) {
			return fmt.Sprintf("got %+v, want %+v", *got, *want)
		}
	}
	g.Mag, w.Mag, g.Quat, w.Quat = [3]float32{}, [3]float32{}, [4]float32{}, [4]float32{}
	if g != w {
		return fmt.Sprintf("got %+v, want %+v", *got, *want)
	}
	return ""
}

func datagramDiff(got, want *Datagram) string {
	if got.Header != want.Header {
		return fmt.Sprintf("header: got %+v, want %+v", got.Header, want.Header)
	}
	if len(got.Samples) != len(want.Samples) {
		return fmt.Sprintf("got %d samples, want %d", len(got.Samples), len(want.Samples))
	}
	for i := range got.Samples {
		if d := sampleDiff(&got.Samples[i], &want.Samples[i]); d != "" {
			return fmt.Sprintf("sample %d: %s", i, d)
		}
	}
	return ""
}

func TestGoldenParse(t *testing.T) {
	for _, tc := range golden {
		t.Run(tc.name, func(t *testing.T) {
			b := mustUnhex(t, tc.hex)
			if got := Is(b); got != (len(b) >= HeaderLen && tc.err != ErrMagic) {
				t.Errorf("Is = %v", got)
			}
			var d Datagram
			err := Parse(b, &d)
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("Parse error = %v, want %v", err, tc.err)
			}
			if err != nil {
				if !strings.HasPrefix(err.Error(), "telemetry: ") {
					t.Errorf("error %q lacks the package prefix", err)
				}
				return
			}
			if diff := datagramDiff(&d, &tc.want); diff != "" {
				t.Error(diff)
			}
		})
	}
}

func TestGoldenParseHeader(t *testing.T) {
	for _, tc := range golden {
		t.Run(tc.name, func(t *testing.T) {
			b := mustUnhex(t, tc.hex)
			h, err := ParseHeader(b)
			wantErr := tc.err
			if wantErr == ErrLength { // the header alone is fine
				wantErr = nil
			}
			if !errors.Is(err, wantErr) || (err == nil) != (wantErr == nil) {
				t.Fatalf("ParseHeader error = %v, want %v", err, wantErr)
			}
			if tc.err == nil && h != tc.want.Header {
				t.Errorf("got %+v, want %+v", h, tc.want.Header)
			}
		})
	}
}

func TestGoldenAppend(t *testing.T) {
	for _, tc := range golden {
		if tc.err != nil || tc.decodeOnly {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			want := mustUnhex(t, tc.hex)
			prefix := []byte{0xaa, 0xbb}
			var got []byte
			switch {
			case tc.want.Type == TypeEnd:
				got = AppendEnd(prefix, tc.want.Session, tc.want.Seq, tc.want.RateHz)
			case tc.pressure:
				got = AppendDatagramPressure(prefix, tc.want.Header, tc.want.Samples)
			case tc.magQuat:
				got = AppendDatagramMagQuat(prefix, tc.want.Header, tc.want.Samples)
			default:
				got = AppendDatagram(prefix, tc.want.Header, tc.want.Samples)
			}
			if !bytes.Equal(got[:2], []byte{0xaa, 0xbb}) {
				t.Fatalf("prefix overwritten: % x", got[:2])
			}
			if got := got[2:]; !bytes.Equal(got, want) {
				t.Errorf("got\n%s\nwant\n%s", hex.Dump(got), hex.Dump(want))
			}
		})
	}
}

func TestAppendDatagramIgnoresImpliedFields(t *testing.T) {
	h := hdrOneWant
	h.Version, h.Type, h.Count, h.SampleLen = 7, TypeEnd, 9, 60
	got := AppendDatagram(nil, h, []sensor.Sample{sampleOne})
	if want := mustUnhex(t, hdrOne+recOne); !bytes.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", hex.Dump(got), hex.Dump(want))
	}
}

func TestAppendHeader(t *testing.T) {
	h := Header{Type: TypeSamples, Count: 1, Session: 0x7a3f19c2, Seq: 1000, RateHz: 200}
	if got, want := AppendHeader(nil, h), mustUnhex(t, hdrOne); !bytes.Equal(got, want) {
		t.Errorf("zero Version and SampleLen: got % x, want % x", got, want)
	}
	// Non-zero values are written as given, so tests and tools can build
	// datagrams of other versions.
	h.Version, h.SampleLen = 2, 60
	want := mustUnhex(t, "49 4d 55 53 02 01 01 3c c2 19 3f 7a e8 03 00 00 c8 00 00 00")
	if got := AppendHeader(nil, h); !bytes.Equal(got, want) {
		t.Errorf("explicit Version and SampleLen: got % x, want % x", got, want)
	}
}

func TestAppendSampleLateNs(t *testing.T) {
	for _, tc := range []struct {
		in, want int64
	}{
		{-1, 0},
		{math.MinInt64, 0},
		{0, 0},
		{math.MaxUint32, math.MaxUint32},
		{math.MaxUint32 + 1, math.MaxUint32},
		{math.MaxInt64, math.MaxUint32},
	} {
		s := sampleOne
		s.LateNs = tc.in
		var d Datagram
		if err := Parse(AppendDatagram(nil, hdrOneWant, []sensor.Sample{s}), &d); err != nil {
			t.Fatal(err)
		}
		if got := d.Samples[0].LateNs; got != tc.want {
			t.Errorf("LateNs %d: decoded %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestAppendDatagramPanicsOnBadBatch(t *testing.T) {
	for _, n := range []int{0, MaxBatch + 1, 256} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%d samples: no panic", n)
				}
			}()
			AppendDatagram(nil, hdrOneWant, make([]sensor.Sample, n))
		}()
	}
	for _, n := range []int{0, MaxBatchPressure + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%d samples with pressure: no panic", n)
				}
			}()
			AppendDatagramPressure(nil, hdrOneWant, make([]sensor.Sample, n))
		}()
	}
}

func TestParseReusesSamples(t *testing.T) {
	b := mustUnhex(t, goldenNamed(t, "batch of 3 across seq wrap").hex) // batch of 3
	d := Datagram{Samples: make([]sensor.Sample, 5)}
	backing := &d.Samples[0]
	if err := Parse(b, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Samples) != 3 || &d.Samples[0] != backing {
		t.Errorf("len %d, same backing array %v; want 3, true", len(d.Samples), &d.Samples[0] == backing)
	}
	// Growing makes room for any batch, so it happens once.
	d = Datagram{}
	if err := Parse(b, &d); err != nil {
		t.Fatal(err)
	}
	if cap(d.Samples) < MaxBatch {
		t.Errorf("cap %d after growing, want at least %d", cap(d.Samples), MaxBatch)
	}
}

func TestParseErrorLeavesDatagram(t *testing.T) {
	one := goldenNamed(t, "one sample")
	d := one.want
	d.Samples = append([]sensor.Sample(nil), d.Samples...)
	b := mustUnhex(t, hdrOne+recOne+"00")
	if err := Parse(b, &d); err == nil {
		t.Fatal("Parse succeeded")
	}
	if diff := datagramDiff(&d, &one.want); diff != "" {
		t.Error(diff)
	}
}

func TestTypeString(t *testing.T) {
	for typ, want := range map[Type]string{TypeSamples: "samples", TypeEnd: "end", 0: "Type(0)", 255: "Type(255)"} {
		if got := typ.String(); got != want {
			t.Errorf("Type(%d).String() = %q, want %q", uint8(typ), got, want)
		}
	}
}

func TestMaxDatagramLen(t *testing.T) {
	// 1200 is the datagram size below which no IPv6 path (1280 MTU) fragments.
	if MaxDatagramLen != 1164 || MaxDatagramLen > 1200 {
		t.Errorf("MaxDatagramLen = %d", MaxDatagramLen)
	}
	b := AppendDatagram(nil, hdrOneWant, make([]sensor.Sample, MaxBatch))
	if len(b) != MaxDatagramLen {
		t.Errorf("full datagram is %d bytes, want %d", len(b), MaxDatagramLen)
	}
	// The largest batch of 56-byte records that fits.
	if MaxDatagramLenPressure != 1196 || MaxDatagramLenPressure+SampleLenPressure <= 1200 {
		t.Errorf("MaxDatagramLenPressure = %d", MaxDatagramLenPressure)
	}
	b = AppendDatagramPressure(nil, hdrOneWant, make([]sensor.Sample, MaxBatchPressure))
	if len(b) != MaxDatagramLenPressure {
		t.Errorf("full datagram with pressure is %d bytes, want %d", len(b), MaxDatagramLenPressure)
	}
}

func TestAllocs(t *testing.T) {
	samples := repeatSample(sampleOne, MaxBatch)
	buf := make([]byte, 0, MaxDatagramLen)
	if n := testing.AllocsPerRun(100, func() {
		buf = AppendDatagram(buf[:0], hdrOneWant, samples)
	}); n != 0 {
		t.Errorf("AppendDatagram: %v allocs, want 0", n)
	}
	pbuf := make([]byte, 0, MaxDatagramLenPressure)
	if n := testing.AllocsPerRun(100, func() {
		pbuf = AppendDatagramPressure(pbuf[:0], hdrOneWant, samples[:MaxBatchPressure])
	}); n != 0 {
		t.Errorf("AppendDatagramPressure: %v allocs, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		buf = AppendEnd(buf[:0], 1, 2, 200)
	}); n != 0 {
		t.Errorf("AppendEnd: %v allocs, want 0", n)
	}
	b := AppendDatagram(nil, hdrOneWant, samples)
	d := Datagram{Samples: make([]sensor.Sample, 0, MaxBatch)}
	if n := testing.AllocsPerRun(100, func() {
		if err := Parse(b, &d); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Parse: %v allocs, want 0", n)
	}
}

// TestProtocolDoc keeps the worked examples in docs/protocol.md true: their
// bytes must decode to the values their comments state, field by field, and
// re-encode to the same bytes.
func TestProtocolDoc(t *testing.T) {
	t.Run("sample-v1", func(t *testing.T) { checkDocExample(t, "sample-v1", goldenNamed(t, "one sample")) })
	t.Run("sample-v1-mag-quat", func(t *testing.T) {
		checkDocExample(t, "sample-v1-mag-quat", goldenNamed(t, "one sample with field and orientation"))
	})
	t.Run("sample-v1-pressure", func(t *testing.T) {
		checkDocExample(t, "sample-v1-pressure", goldenNamed(t, "one sample with pressure"))
	})
}

func goldenNamed(t *testing.T, name string) goldenCase {
	t.Helper()
	for _, tc := range golden {
		if tc.name == name {
			return tc
		}
	}
	t.Fatalf("no golden case %q", name)
	return goldenCase{}
}

// checkDocExample checks the example marked "<!-- golden: NAME -->"
// against the golden case gc, which has one sample.
func checkDocExample(t *testing.T, name string, gc goldenCase) {
	lines := docExample(t, "../docs/protocol.md", "<!-- golden: "+name+" -->")
	var b []byte
	type field struct {
		name  string
		size  int
		value string
	}
	var fields []field
	for i, line := range lines {
		data, comment, ok := strings.Cut(line, "#")
		name, value, ok2 := strings.Cut(comment, "=")
		if !ok || !ok2 {
			t.Fatalf("example line %d: want `bytes # field = value`, got %q", i+1, line)
		}
		raw, err := unhex(data)
		if err != nil {
			t.Fatalf("example line %d: %v", i+1, err)
		}
		b = append(b, raw...)
		// Only the first word is the value; the rest explains it.
		words := strings.Fields(value)
		if len(words) == 0 {
			t.Fatalf("example line %d: no value", i+1)
		}
		fields = append(fields, field{strings.TrimSpace(name), len(raw), words[0]})
	}

	var d Datagram
	if err := Parse(b, &d); err != nil {
		t.Fatalf("example does not parse: %v", err)
	}
	if len(d.Samples) != 1 {
		t.Fatalf("example has %d samples, want 1", len(d.Samples))
	}
	if diff := datagramDiff(&d, &gc.want); diff != "" {
		t.Errorf("example differs from golden case %q: %s", gc.name, diff)
	}
	re := AppendDatagram(nil, d.Header, d.Samples)
	if gc.pressure {
		re = AppendDatagramPressure(nil, d.Header, d.Samples)
	}
	if gc.magQuat {
		re = AppendDatagramMagQuat(nil, d.Header, d.Samples)
	}
	if !bytes.Equal(re, b) {
		t.Errorf("example re-encodes to\n%s\nwant\n%s", hex.Dump(re), hex.Dump(b))
	}

	s := &d.Samples[0]
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	f := func(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }
	want := []field{
		{"magic", 4, strconv.Quote(Magic)},
		{"version", 1, u(uint64(d.Version))},
		{"type", 1, u(uint64(d.Type))},
		{"count", 1, u(uint64(d.Count))},
		{"sample_len", 1, u(uint64(d.SampleLen))},
		{"session", 4, fmt.Sprintf("0x%08x", d.Session)},
		{"seq", 4, u(uint64(d.Seq))},
		{"rate_hz", 2, u(uint64(d.RateHz))},
		{"reserved", 2, "0"},
		{"t_mono_ns", 8, strconv.FormatInt(s.MonoNs, 10)},
		{"t_wall_ns", 8, strconv.FormatInt(s.WallNs, 10)},
		{"late_ns", 4, strconv.FormatInt(s.LateNs, 10)},
		{"flags", 2, fmt.Sprintf("0x%04x", uint16(s.Status))},
		{"reserved", 2, "0"},
		{"accel_x", 4, f(s.Accel[0])},
		{"accel_y", 4, f(s.Accel[1])},
		{"accel_z", 4, f(s.Accel[2])},
		{"gyro_x", 4, f(s.Gyro[0])},
		{"gyro_y", 4, f(s.Gyro[1])},
		{"gyro_z", 4, f(s.Gyro[2])},
		{"temp_c", 4, f(s.TempC)},
	}
	if gc.pressure || gc.magQuat {
		want = append(want, field{"pressure_pa", 4, f(s.PressurePa)})
	}
	if gc.magQuat {
		want = append(want, field{"mag_x", 4, f(s.Mag[0])}, field{"mag_y", 4, f(s.Mag[1])}, field{"mag_z", 4, f(s.Mag[2])},
			field{"quat_w", 4, f(s.Quat[0])}, field{"quat_x", 4, f(s.Quat[1])}, field{"quat_y", 4, f(s.Quat[2])}, field{"quat_z", 4, f(s.Quat[3])})
	}
	if len(fields) != len(want) {
		t.Fatalf("example has %d field lines, want %d (one per field)", len(fields), len(want))
	}
	for i := range want {
		if fields[i] != want[i] {
			t.Errorf("example line %d: got %s (%d bytes) = %s, want %s (%d bytes) = %s",
				i+1, fields[i].name, fields[i].size, fields[i].value, want[i].name, want[i].size, want[i].value)
		}
	}
}

// docExample returns the non-blank lines of the ```hex block that follows
// marker in the Markdown file at path.
func docExample(t *testing.T, path, marker string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() && strings.TrimSpace(sc.Text()) != marker {
	}
	for sc.Scan() && strings.TrimSpace(sc.Text()) == "" {
	}
	if sc.Text() != "```hex" {
		t.Fatalf("%s: no ```hex block right after %s", path, marker)
	}
	var lines []string
	for sc.Scan() {
		line := sc.Text()
		if line == "```" {
			return lines
		}
		if strings.TrimSpace(line) != "" {
			lines = append(lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Fatalf("%s: hex block after %s is not closed", path, marker)
	return nil
}

func BenchmarkAppendDatagram(b *testing.B) {
	for _, n := range []int{1, 8} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			samples := repeatSample(sampleOne, n)
			buf := make([]byte, 0, MaxDatagramLen)
			b.ReportAllocs()
			b.SetBytes(int64(HeaderLen + n*SampleLen))
			for b.Loop() {
				buf = AppendDatagram(buf[:0], hdrOneWant, samples)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	for _, n := range []int{1, 8} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			data := AppendDatagram(nil, hdrOneWant, repeatSample(sampleOne, n))
			d := Datagram{Samples: make([]sensor.Sample, 0, MaxBatch)}
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := Parse(data, &d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// PutSessionSeq changes those two fields and nothing else.
func TestPutSessionSeq(t *testing.T) {
	s := sensor.Sample{MonoNs: 42, Accel: [3]float32{1, 2, 3}}
	h := Header{Type: TypeSamples, Session: 1, Seq: 2, RateHz: 200}
	b := AppendDatagram(nil, h, []sensor.Sample{s, s})
	PutSessionSeq(b, 0xdeadbeef, 77)
	h.Session, h.Seq = 0xdeadbeef, 77
	if want := AppendDatagram(nil, h, []sensor.Sample{s, s}); !bytes.Equal(b, want) {
		t.Errorf("got  % x\nwant % x", b, want)
	}
}

func withFlags(h Header, f uint16) Header {
	h.Flags = f
	return h
}
