// Package mcaprec writes a recording as an MCAP file of ROS 2 messages
// (github.com/foxglove/mcap/go/mcap, profile "ros2"): every sample as a
// sensor_msgs/msg/Imu and a sensor_msgs/msg/Temperature, and as a
// sensor_msgs/msg/MagneticField and a sensor_msgs/msg/FluidPressure when
// it carries a fresh reading of them, CDR-encoded by package ros2, so
// `ros2 bag play` and Foxglove open it.
//
// The file is chunked, compressed (zstd, or lz4) and indexed. Chunks are
// small (DefaultChunkSize: about a second at 200 Hz) and each is handed to
// the disk as it is written (Options.Sync), so a recording cut short by a
// crash or a power loss, which has no summary at its end, still gives a
// reader that reads the file front to back every complete chunk.
package mcaprec

import (
	"errors"
	"fmt"
	"io"

	"github.com/foxglove/mcap/go/mcap"

	"github.com/imustream/imustream/ros2"
	"github.com/imustream/imustream/sensor"
)

// Defaults of Options.
const (
	DefaultFrameID = "imu"
	DefaultTopic   = "/imu"
	// DefaultChunkSize is the uncompressed size at which a chunk is
	// closed: about 180 Imu messages.
	DefaultChunkSize = 64 << 10
)

// Compression formats.
const (
	Zstd = "zstd"
	LZ4  = "lz4"
)

// Options configure a Writer; zero fields take the defaults.
type Options struct {
	// FrameID is every message's header.frame_id. It defaults to "imu".
	FrameID string
	// Topic is the prefix of the topics: TOPIC/data (Imu), TOPIC/temperature,
	// TOPIC/mag, TOPIC/pressure. It defaults to "/imu".
	Topic string
	// Compression is Zstd (the default) or LZ4.
	Compression string
	// ChunkSize defaults to DefaultChunkSize.
	ChunkSize int64
	// Sync, when set, is called after each chunk reaches the writer (an
	// *os.File's Sync), so that a power loss keeps every complete chunk.
	Sync func() error
	// Metadata is written as an MCAP metadata record named "imustream"
	// (device, daemon version and such); nil: none.
	Metadata map[string]string
}

// Writer writes samples to an MCAP file.
type Writer struct {
	opts   Options
	w      *mcap.Writer
	cw     *countingWriter
	synced int64

	imu, temp, mag, pressure uint16 // channel ids; 0: not yet written
	nextID                   uint16
	schemas                  map[string]uint16

	buf      []byte
	m        ros2.Imu
	messages uint64
	closed   bool
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// ErrClosed is WriteSample after Close.
var ErrClosed = errors.New("mcaprec: writer closed")

// NewWriter writes the MCAP header (profile "ros2") to w.
func NewWriter(w io.Writer, opts Options) (*Writer, error) {
	if opts.FrameID == "" {
		opts.FrameID = DefaultFrameID
	}
	if opts.Topic == "" {
		opts.Topic = DefaultTopic
	}
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = DefaultChunkSize
	}
	var comp mcap.CompressionFormat
	switch opts.Compression {
	case "", Zstd:
		comp = mcap.CompressionZSTD
	case LZ4:
		comp = mcap.CompressionLZ4
	default:
		return nil, fmt.Errorf("mcaprec: compression %q: want zstd or lz4", opts.Compression)
	}
	cw := &countingWriter{w: w}
	mw, err := mcap.NewWriter(cw, &mcap.WriterOptions{Chunked: true, ChunkSize: opts.ChunkSize, Compression: comp, IncludeCRC: true})
	if err != nil {
		return nil, fmt.Errorf("mcaprec: %w", err)
	}
	x := &Writer{opts: opts, w: mw, cw: cw, schemas: map[string]uint16{}, buf: make([]byte, 0, 512)}
	if err := mw.WriteHeader(&mcap.Header{Profile: "ros2", Library: "imustream"}); err != nil {
		return nil, fmt.Errorf("mcaprec: header: %w", err)
	}
	if opts.Metadata != nil {
		if err := mw.WriteMetadata(&mcap.Metadata{Name: "imustream", Metadata: opts.Metadata}); err != nil {
			return nil, fmt.Errorf("mcaprec: metadata: %w", err)
		}
	}
	// The Imu and Temperature channels come first, in the first chunk:
	// every sample has them.
	if x.imu, err = x.channel(ros2.ImuType, "/data"); err == nil {
		x.temp, err = x.channel(ros2.TemperatureType, "/temperature")
	}
	if err != nil {
		return nil, err
	}
	return x, nil
}

// channel writes a channel of typ (and its schema, the first time).
func (x *Writer) channel(typ, suffix string) (uint16, error) {
	sid, ok := x.schemas[typ]
	if !ok {
		sid = uint16(len(x.schemas) + 1)
		if err := x.w.WriteSchema(&mcap.Schema{ID: sid, Name: typ, Encoding: ros2.SchemaEncoding, Data: []byte(ros2.Schema(typ))}); err != nil {
			return 0, fmt.Errorf("mcaprec: schema %s: %w", typ, err)
		}
		x.schemas[typ] = sid
	}
	x.nextID++
	id := x.nextID
	if err := x.w.WriteChannel(&mcap.Channel{ID: id, SchemaID: sid, Topic: x.opts.Topic + suffix, MessageEncoding: ros2.MessageEncoding, Metadata: map[string]string{}}); err != nil {
		return 0, fmt.Errorf("mcaprec: channel %s: %w", typ, err)
	}
	return id, nil
}

// Imu fills m from s as REP 145 asks: orientation only with
// StatusOrientation, else element 0 of its covariance is −1 ("no
// estimate"); the other covariances are all zero ("unknown").
func Imu(m *ros2.Imu, s *sensor.Sample, stamp int64, frameID string) {
	*m = ros2.Imu{Header: ros2.Header{Stamp: ros2.TimeFromNs(stamp), FrameID: frameID}}
	if s.Status&sensor.StatusOrientation != 0 {
		m.Orientation = [4]float64{float64(s.Quat[1]), float64(s.Quat[2]), float64(s.Quat[3]), float64(s.Quat[0])}
	} else {
		m.OrientationCovariance[0] = -1
	}
	for i := range 3 {
		m.AngularVelocity[i] = float64(s.Gyro[i])
		m.LinearAcceleration[i] = float64(s.Accel[i])
	}
}

// WriteSample writes s's messages, stamped stamp (ns since the Unix
// epoch: the PC's time of the sample), with sequence number seq.
func (x *Writer) WriteSample(s *sensor.Sample, stamp int64, seq uint32) error {
	if x.closed {
		return ErrClosed
	}
	h := ros2.Header{Stamp: ros2.TimeFromNs(stamp), FrameID: x.opts.FrameID}
	Imu(&x.m, s, stamp, x.opts.FrameID)
	x.buf = ros2.AppendImu(x.buf[:0], &x.m)
	if err := x.write(x.imu, seq, stamp); err != nil {
		return err
	}
	x.buf = ros2.AppendTemperature(x.buf[:0], &ros2.Temperature{Header: h, Temperature: float64(s.TempC)})
	if err := x.write(x.temp, seq, stamp); err != nil {
		return err
	}
	if s.Status&sensor.StatusMag != 0 && s.Status&sensor.StatusMagOverflow == 0 {
		if x.mag == 0 {
			id, err := x.channel(ros2.MagneticFieldType, "/mag")
			if err != nil {
				return err
			}
			x.mag = id
		}
		m := ros2.MagneticField{Header: h}
		for i := range 3 {
			m.MagneticField[i] = float64(s.Mag[i]) * 1e-6 // µT → T
		}
		x.buf = ros2.AppendMagneticField(x.buf[:0], &m)
		if err := x.write(x.mag, seq, stamp); err != nil {
			return err
		}
	}
	if s.Status&sensor.StatusPressure != 0 {
		if x.pressure == 0 {
			id, err := x.channel(ros2.FluidPressureType, "/pressure")
			if err != nil {
				return err
			}
			x.pressure = id
		}
		x.buf = ros2.AppendFluidPressure(x.buf[:0], &ros2.FluidPressure{Header: h, FluidPressure: float64(s.PressurePa)})
		if err := x.write(x.pressure, seq, stamp); err != nil {
			return err
		}
	}
	return nil
}

func (x *Writer) write(ch uint16, seq uint32, stamp int64) error {
	t := uint64(max(stamp, 0))
	if err := x.w.WriteMessage(&mcap.Message{ChannelID: ch, Sequence: seq, LogTime: t, PublishTime: t, Data: x.buf}); err != nil {
		return fmt.Errorf("mcaprec: %w", err)
	}
	x.messages++
	if x.cw.n != x.synced && x.opts.Sync != nil {
		// A chunk reached the file: hand it to the disk.
		x.synced = x.cw.n
		if err := x.opts.Sync(); err != nil {
			return fmt.Errorf("mcaprec: sync: %w", err)
		}
	}
	return nil
}

// Close writes the last chunk, the summary (schemas, channels,
// statistics, chunk indexes) and the footer. It does not close the
// underlying writer.
func (x *Writer) Close() error {
	if x.closed {
		return nil
	}
	x.closed = true
	if err := x.w.Close(); err != nil {
		return fmt.Errorf("mcaprec: %w", err)
	}
	return nil
}

// Size returns the bytes written to the underlying writer so far: the
// header and the complete chunks (and, after Close, the summary).
func (x *Writer) Size() int64 { return x.cw.n }

// Messages returns the messages written so far.
func (x *Writer) Messages() uint64 { return x.messages }
