package wsproto

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

var parseCases = []struct {
	in   string
	want ClientMessage
	err  error
}{
	{`{"op":"subscribe","subscriptions":[{"id":0,"channelId":3},{"id":1,"channelId":5}]}`,
		ClientMessage{Op: OpSubscribe, Subscriptions: []Subscription{{0, 3}, {1, 5}}}, nil},
	{`{"op":"subscribe","subscriptions":[]}`, ClientMessage{Op: OpSubscribe, Subscriptions: []Subscription{}}, nil},
	{` {"op":"unsubscribe","subscriptionIds":[0,1]} `, ClientMessage{Op: OpUnsubscribe, SubscriptionIDs: []uint32{0, 1}}, nil},
	{`{"op":"unsubscribe","subscriptionIds":[]}`, ClientMessage{Op: OpUnsubscribe, SubscriptionIDs: []uint32{}}, nil},
	{`{"op":"getParameters","parameterNames":[]}`, ClientMessage{Op: "getParameters"}, nil},
	{`{"op":"subscribe"}`, ClientMessage{}, ErrBadField},
	{`{"op":"subscribe","subscriptions":[{"id":1}]}`, ClientMessage{}, ErrBadField},
	{`{"op":"subscribe","subscriptions":[{"id":-1,"channelId":1}]}`, ClientMessage{}, ErrBadField},
	{`{"op":"subscribe","subscriptions":[{"id":4294967296,"channelId":1}]}`, ClientMessage{}, ErrBadField},
	{`{"op":"subscribe","subscriptions":{"id":1,"channelId":1}}`, ClientMessage{}, ErrBadField},
	{`{"op":"unsubscribe"}`, ClientMessage{}, ErrBadField},
	{`{"op":"unsubscribe","subscriptionIds":["a"]}`, ClientMessage{}, ErrBadField},
	{`{"op":""}`, ClientMessage{}, ErrNoOp},
	{`{"subscriptions":[]}`, ClientMessage{}, ErrNoOp},
	{`{"op":3}`, ClientMessage{}, ErrNotJSON},
	{`[1]`, ClientMessage{}, ErrNotJSON},
	{``, ClientMessage{}, ErrNotJSON},
	{`{"op":"subscribe"`, ClientMessage{}, ErrNotJSON},
	{`{"op":"x","pad":"` + strings.Repeat("a", MaxClientMessage) + `"}`, ClientMessage{}, ErrTooLong},
}

func TestParseClientMessage(t *testing.T) {
	for _, tc := range parseCases {
		got, err := ParseClientMessage([]byte(tc.in))
		if !errors.Is(err, tc.err) || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseClientMessage(%.60q) = %+v, %v; want %+v, %v", tc.in, got, err, tc.want, tc.err)
		}
		if tc.err != nil && Reason(err) != strings.TrimPrefix(tc.err.Error(), "wsproto: ") {
			t.Errorf("ParseClientMessage(%.60q): reason %q for %v", tc.in, Reason(err), err)
		}
	}
}

// TestMessageData: the spec's layout, opcode, subscription id and
// receive time little-endian, then the payload.
func TestMessageData(t *testing.T) {
	got := hex.EncodeToString(AppendMessageData(nil, 0x01020304, 0x1122334455667788, []byte("{}")))
	if want := "01" + "04030201" + "8877665544332211" + "7b7d"; got != want {
		t.Fatalf("message data %s, want %s", got, want)
	}
}

// FuzzParseClientMessage: any text is parsed or refused, never a panic;
// what parses means the same once encoded again.
func FuzzParseClientMessage(f *testing.F) {
	for _, tc := range parseCases {
		if len(tc.in) < 1000 {
			f.Add([]byte(tc.in))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseClientMessage(b)
		if err != nil {
			if r := Reason(err); r == "client message refused" {
				t.Fatalf("error %v: reason %q", err, r)
			}
			if m.Op != "" || m.Subscriptions != nil || m.SubscriptionIDs != nil {
				t.Fatalf("error %v with a message %+v", err, m)
			}
			return
		}
		if m.Op == "" {
			t.Fatal("parsed without an op")
		}
		again := map[string]any{"op": m.Op}
		switch m.Op {
		case OpSubscribe:
			again["subscriptions"] = m.Subscriptions
		case OpUnsubscribe:
			again["subscriptionIds"] = m.SubscriptionIDs
		}
		enc, err := json.Marshal(again)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := ParseClientMessage(enc)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("%s parsed as %+v; its encoding %s as %+v, %v", b, m, enc, m2, err)
		}
	})
}
