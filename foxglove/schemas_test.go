package foxglove

import (
	"encoding/json"
	"testing"

	"github.com/imustream/imustream/foxglove/wsproto"
)

func TestServerMessagesAreJSON(t *testing.T) {
	for _, b := range [][]byte{wsproto.ServerInfo("n\"\x01", "1"), wsproto.Advertise([]wsproto.Channel{{ID: 1, Topic: "/imu", Encoding: "json", SchemaName: "s", Schema: imuSchema, SchemaEncoding: "jsonschema"}}),
		wsproto.Status(wsproto.StatusWarning, "bad \"x\"\x00\xff")} {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil || m["op"] == nil {
			t.Errorf("%s: %v (op %v)", b, err, m["op"])
		}
	}
	for _, s := range []string{imuSchema, temperatureSchema, magSchema, pressureSchema} {
		if !json.Valid([]byte(s)) {
			t.Errorf("schema is not JSON: %s", s)
		}
	}
}
