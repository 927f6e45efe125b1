package foxglove

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/imustream/imustream/foxglove/wsproto"
	"github.com/imustream/imustream/internal/dropq"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// serve runs srv on a loopback HTTP server for the test.
func serve(t *testing.T, srv *Server) string {
	t.Helper()
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { srv.Close(); hs.Close() })
	return "ws" + strings.TrimPrefix(hs.URL, "http")
}

func dial(t *testing.T, ctx context.Context, url string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{wsproto.Subprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	c.SetReadLimit(1 << 20)
	return c
}

// readJSON reads text messages until one with op; binary ones are kept.
func readOp(t *testing.T, ctx context.Context, c *websocket.Conn, op string) map[string]any {
	t.Helper()
	for {
		typ, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", op, err)
		}
		if typ != websocket.MessageText {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if m["op"] == op {
			return m
		}
	}
}

func send(t *testing.T, ctx context.Context, c *websocket.Conn, s string) {
	t.Helper()
	if err := c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestSubscribeReceiveUnsubscribe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := NewServer(ServerConfig{Name: "test"})
	imu, err := NewIMU(srv, "imu_link")
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, ctx, serve(t, srv))
	if info := readOp(t, ctx, c, "serverInfo"); info["name"] != "test" {
		t.Fatalf("serverInfo %v", info)
	}
	adv := readOp(t, ctx, c, "advertise")
	chans := adv["channels"].([]any)
	if len(chans) != 2 || chans[0].(map[string]any)["topic"] != "/imu" || chans[0].(map[string]any)["schemaName"] != "sensor_msgs/msg/Imu" {
		t.Fatalf("advertise %v", adv)
	}
	send(t, ctx, c, `{"op":"subscribe","subscriptions":[{"id":7,"channelId":1}]}`)
	waitFor(t, "the subscription", func() bool { return srv.Subscribed(ChannelImu) })

	s := sensor.Sample{WallNs: 1_700_000_000_123_456_789, Accel: [3]float32{0.1, -9.80665, 1e-7}, Gyro: [3]float32{1, 2, 3}, TempC: 25.5,
		Status: sensor.StatusMag | sensor.StatusPressure, Mag: [3]float32{20, -30, 40}, PressurePa: 101325}
	imu.Sample(&telemetry.Header{}, 0, &s)
	// A later channel: magnetometer and pressure appear with the first
	// sample that has them.
	adv = readOp(t, ctx, c, "advertise")
	if got := adv["channels"].([]any)[0].(map[string]any)["topic"]; got != "/imu/mag" {
		t.Fatalf("advertise %v, want /imu/mag", adv)
	}
	for {
		typ, b, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if typ != websocket.MessageBinary {
			continue
		}
		if b[0] != wsproto.OpMessageData || binary.LittleEndian.Uint32(b[1:]) != 7 || binary.LittleEndian.Uint64(b[5:]) != uint64(s.WallNs) {
			t.Fatalf("message data header % x", b[:wsproto.MessageDataHeaderLen])
		}
		var m struct {
			Header struct {
				Stamp struct {
					Sec, Nanosec int64
				}
				FrameID string `json:"frame_id"`
			}
			LinearAcceleration struct{ X, Y, Z float64 } `json:"linear_acceleration"`
			AngularVelocity    struct{ X, Y, Z float64 } `json:"angular_velocity"`
			OrientationCov     []float64                 `json:"orientation_covariance"`
		}
		if err := json.Unmarshal(b[wsproto.MessageDataHeaderLen:], &m); err != nil {
			t.Fatalf("%s: %v", b[wsproto.MessageDataHeaderLen:], err)
		}
		a := m.LinearAcceleration
		if m.Header.Stamp.Sec != 1_700_000_000 || m.Header.Stamp.Nanosec != 123_456_789 || m.Header.FrameID != "imu_link" ||
			float32(a.X) != s.Accel[0] || float32(a.Y) != s.Accel[1] || float32(a.Z) != s.Accel[2] || float32(m.AngularVelocity.Z) != 3 ||
			len(m.OrientationCov) != 9 || m.OrientationCov[0] != -1 {
			t.Fatalf("message %+v from sample %+v", m, s)
		}
		break
	}
	send(t, ctx, c, `{"op":"unsubscribe","subscriptionIds":[7]}`)
	waitFor(t, "the unsubscription", func() bool { return !srv.Subscribed(ChannelImu) })
	send(t, ctx, c, `{"op":"subscribe","subscriptions":[{"id":1,"channelId":99}]}`)
	if st := readOp(t, ctx, c, "status"); !strings.Contains(st["message"].(string), "no channel 99") {
		t.Fatalf("status %v", st)
	}
	send(t, ctx, c, `not json`)
	if st := readOp(t, ctx, c, "status"); st["level"].(float64) != wsproto.StatusError {
		t.Fatalf("status %v", st)
	}
	if got := srv.Stats().BadMessages; got != 2 {
		t.Fatalf("%d bad messages, want 2", got)
	}
}

// TestSlowClientDoesNotBlock: a client that does not read loses its
// oldest messages, counted; Publish returns at once all the same.
func TestSlowClientDoesNotBlock(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := NewServer(ServerConfig{Queue: 16, WriteTimeout: time.Minute}) // the client stays, not reading
	if err := srv.Advertise(wsproto.Channel{ID: 1, Topic: "/x", Encoding: "json", SchemaName: "x", Schema: "{}"}); err != nil {
		t.Fatal(err)
	}
	c := dial(t, ctx, serve(t, srv))
	send(t, ctx, c, `{"op":"subscribe","subscriptions":[{"id":1,"channelId":1}]}`)
	waitFor(t, "the subscription", func() bool { return srv.Subscribed(1) })
	payload := []byte(`{"pad":"` + strings.Repeat("x", 16<<10) + `"}`)
	start := time.Now()
	const n = 2000 // 32 MB: far more than the socket buffers hold
	for range n {
		srv.Publish(1, 1, payload)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("publishing %d messages to a client that does not read took %s", n, el)
	}
	st := srv.Stats()
	if st.Published != n || st.Dropped == 0 {
		t.Fatalf("stats %+v: want %d published, some dropped", st, n)
	}
}

func TestRefusesOtherSubprotocols(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, serve(t, NewServer(ServerConfig{})), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_, _, err = c.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("read %v, want a policy violation close", err)
	}
}

func TestAdvertiseTwice(t *testing.T) {
	srv := NewServer(ServerConfig{})
	if _, err := NewIMU(srv, "imu"); err != nil {
		t.Fatal(err)
	}
	if _, err := NewIMU(srv, "imu"); err == nil {
		t.Fatal("a channel id advertised twice was taken")
	}
}

func TestAppendImuEdges(t *testing.T) {
	s := sensor.Sample{WallNs: -1, Accel: [3]float32{float32(math.NaN()), float32(math.Inf(1)), 1}, Status: sensor.StatusOrientation, Quat: [4]float32{1, 0, 0, 0}}
	b := AppendImu(nil, jsonString("a\"b\n"), &s)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	h := m["header"].(map[string]any)
	st := h["stamp"].(map[string]any)
	if st["sec"].(float64) != -1 || st["nanosec"].(float64) != 999999999 || h["frame_id"] != "a\"b\n" {
		t.Fatalf("header %v", h)
	}
	if la := m["linear_acceleration"].(map[string]any); la["x"] != nil || la["y"] != nil || la["z"].(float64) != 1 {
		t.Fatalf("acceleration %v", la)
	}
	if o := m["orientation"].(map[string]any); o["w"].(float64) != 1 || m["orientation_covariance"].([]any)[0].(float64) != 0 {
		t.Fatalf("orientation %v %v", o, m["orientation_covariance"])
	}
}

// BenchmarkIMUSample: a sample to one subscribed client; it runs on the
// receive path, so it must stay a few µs.
func BenchmarkIMUSample(b *testing.B) {
	srv := NewServer(ServerConfig{Queue: 1 << 20})
	imu, err := NewIMU(srv, "imu")
	if err != nil {
		b.Fatal(err)
	}
	// A subscribed client without a connection: its queue is drained
	// by the benchmark.
	c := &client{q: dropq.New(1024), subs: map[uint32]uint32{1: ChannelImu}, byCh: map[uint32]uint32{ChannelImu: 1}}
	srv.clients[c] = struct{}{}
	srv.subs[ChannelImu] = 1
	srv.publishSubs()
	var batch [][]byte
	s := sensor.Sample{WallNs: 1_700_000_000_123_456_789, Accel: [3]float32{0.1, -9.80665, 1e-7}, Gyro: [3]float32{1, 2, 3}, TempC: 25.5}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		imu.Sample(&telemetry.Header{}, 0, &s)
		if i%512 == 0 {
			batch = c.q.Take(batch[:0])
		}
	}
	if c.q.Pushed() == 0 || c.q.Dropped() != 0 {
		b.Fatalf("%d pushed, %d dropped", c.q.Pushed(), c.q.Dropped())
	}
}
