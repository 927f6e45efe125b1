// Package wsproto is the codec of the Foxglove WebSocket protocol
// (foxglove.websocket.v1) subset package foxglove serves: the client's
// text messages parsed, the server's messages built. It has no I/O and
// imports only the standard library, so its fuzz target's binary stays
// small (Go's fuzzer snapshots the coverage counters of every package
// linked in, per input).
//
// Spec: https://github.com/foxglove/ws-protocol/blob/main/docs/spec.md
package wsproto

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Subprotocol is the WebSocket subprotocol of this version of the protocol.
const Subprotocol = "foxglove.websocket.v1"

// OpMessageData is the binary opcode of Message Data; MessageDataHeaderLen
// its header: opcode, subscription id (uint32 LE), receive time in ns
// (uint64 LE).
const (
	OpMessageData        = 0x01
	MessageDataHeaderLen = 1 + 4 + 8
)

// MaxClientMessage bounds a client's text message: a subscribe to every
// channel fits many times over.
const MaxClientMessage = 64 << 10

// Channel is an advertised channel, as the spec's Advertise names its
// fields.
type Channel struct {
	ID             uint32 `json:"id"`
	Topic          string `json:"topic"`
	Encoding       string `json:"encoding"`
	SchemaName     string `json:"schemaName"`
	Schema         string `json:"schema"`
	SchemaEncoding string `json:"schemaEncoding,omitempty"`
}

// Subscription is one element of a Subscribe.
type Subscription struct {
	ID        uint32 `json:"id"`
	ChannelID uint32 `json:"channelId"`
}

// The client operations the server acts on. Others are parsed as OpOther
// and answered with a status: this server has none of the capabilities
// they need.
const (
	OpSubscribe   = "subscribe"
	OpUnsubscribe = "unsubscribe"
)

// ClientMessage is a parsed text message from a client.
type ClientMessage struct {
	Op              string
	Subscriptions   []Subscription // with OpSubscribe
	SubscriptionIDs []uint32       // with OpUnsubscribe
}

// Errors of ParseClientMessage.
var (
	ErrTooLong  = errors.New("wsproto: client message too long")
	ErrNotJSON  = errors.New("wsproto: client message is not a JSON object")
	ErrNoOp     = errors.New("wsproto: client message has no op")
	ErrBadField = errors.New("wsproto: client message has a malformed field")
)

// Reason is the text a client is told for an error of ParseClientMessage:
// its kind only, never the JSON decoder's detail.
func Reason(err error) string {
	for _, e := range []error{ErrTooLong, ErrNotJSON, ErrNoOp, ErrBadField} {
		if errors.Is(err, e) {
			return strings.TrimPrefix(e.Error(), "wsproto: ")
		}
	}
	return "client message refused"
}

// ParseClientMessage decodes a client's text message. The op of a message
// this server does not act on is returned as is, with nothing else.
func ParseClientMessage(b []byte) (ClientMessage, error) {
	if len(b) > MaxClientMessage {
		return ClientMessage{}, ErrTooLong
	}
	var raw struct {
		Op              *string          `json:"op"`
		Subscriptions   *json.RawMessage `json:"subscriptions"`
		SubscriptionIDs *json.RawMessage `json:"subscriptionIds"`
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return ClientMessage{}, ErrNotJSON
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return ClientMessage{}, fmt.Errorf("%w: %w", ErrNotJSON, err)
	}
	if raw.Op == nil || *raw.Op == "" {
		return ClientMessage{}, ErrNoOp
	}
	m := ClientMessage{Op: *raw.Op}
	switch m.Op {
	case OpSubscribe:
		if raw.Subscriptions == nil {
			return ClientMessage{}, fmt.Errorf("%w: subscribe without subscriptions", ErrBadField)
		}
		var subs []struct {
			ID        *uint32 `json:"id"`
			ChannelID *uint32 `json:"channelId"`
		}
		if err := json.Unmarshal(*raw.Subscriptions, &subs); err != nil {
			return ClientMessage{}, fmt.Errorf("%w: subscriptions: %w", ErrBadField, err)
		}
		m.Subscriptions = make([]Subscription, 0, len(subs))
		for _, s := range subs {
			if s.ID == nil || s.ChannelID == nil {
				return ClientMessage{}, fmt.Errorf("%w: a subscription needs id and channelId", ErrBadField)
			}
			m.Subscriptions = append(m.Subscriptions, Subscription{ID: *s.ID, ChannelID: *s.ChannelID})
		}
	case OpUnsubscribe:
		if raw.SubscriptionIDs == nil {
			return ClientMessage{}, fmt.Errorf("%w: unsubscribe without subscriptionIds", ErrBadField)
		}
		if err := json.Unmarshal(*raw.SubscriptionIDs, &m.SubscriptionIDs); err != nil {
			return ClientMessage{}, fmt.Errorf("%w: subscriptionIds: %w", ErrBadField, err)
		}
		if m.SubscriptionIDs == nil {
			m.SubscriptionIDs = []uint32{}
		}
	}
	return m, nil
}

// AppendMessageData appends a Message Data message: payload for
// subscription sub, received at recvNs.
func AppendMessageData(dst []byte, sub uint32, recvNs uint64, payload []byte) []byte {
	dst = append(dst, OpMessageData)
	dst = binary.LittleEndian.AppendUint32(dst, sub)
	dst = binary.LittleEndian.AppendUint64(dst, recvNs)
	return append(dst, payload...)
}

// ServerInfo is the first message a client gets. This server declares no
// capability.
func ServerInfo(name, sessionID string) []byte {
	b, _ := json.Marshal(struct {
		Op           string            `json:"op"`
		Name         string            `json:"name"`
		Capabilities []string          `json:"capabilities"`
		Metadata     map[string]string `json:"metadata,omitempty"`
		SessionID    string            `json:"sessionId,omitempty"`
	}{"serverInfo", name, []string{}, nil, sessionID})
	return b
}

// Advertise announces channels.
func Advertise(chans []Channel) []byte {
	b, _ := json.Marshal(struct {
		Op       string    `json:"op"`
		Channels []Channel `json:"channels"`
	}{"advertise", chans})
	return b
}

// Status levels.
const (
	StatusInfo    = 0
	StatusWarning = 1
	StatusError   = 2
)

// Status is a message for the client's user.
func Status(level int, msg string) []byte {
	m, _ := json.Marshal(msg) // invalid UTF-8 becomes U+FFFD
	return []byte(`{"op":"status","level":` + strconv.Itoa(level) + `,"message":` + string(m) + `}`)
}
