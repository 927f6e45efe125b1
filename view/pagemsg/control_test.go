package pagemsg

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

var controlCases = []struct {
	in   string
	want Op
	err  error
}{
	{`{"op":"start"}`, OpStart, nil},
	{` {"op":"stop"} `, OpStop, nil},
	{`{"op":"stop"}` + "\n", OpStop, nil},
	{`{"op":"pause"}`, "", ErrControlBad},
	{`{"op":"start","x":1}`, "", ErrControlBad},
	{`{"op":"start"} {"op":"stop"}`, "", ErrControlBad},
	{`{"op":1}`, "", ErrControlBad},
	{`{}`, "", ErrControlBad},
	{`null`, "", ErrControlBad},
	{`"start"`, "", ErrControlBad},
	{``, "", ErrControlBad},
	{`{"op":"start"`, "", ErrControlBad},
	{`{"op":"` + strings.Repeat("s", MaxControl) + `"}`, "", ErrControlTooLong},
}

func TestParseControl(t *testing.T) {
	for _, tc := range controlCases {
		got, err := ParseControl([]byte(tc.in))
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("ParseControl(%.40q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// FuzzParseControl: a page's message is start, stop or refused, never a
// panic; what parses is one of the two ops and says so again once encoded.
func FuzzParseControl(f *testing.F) {
	for _, tc := range controlCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		op, err := ParseControl(b)
		if err != nil {
			if op != "" {
				t.Fatalf("error %v with op %q", err, op)
			}
			return
		}
		if op != OpStart && op != OpStop {
			t.Fatalf("op %q", op)
		}
		enc, _ := json.Marshal(map[string]string{"op": string(op)})
		if op2, err := ParseControl(enc); op2 != op || err != nil {
			t.Fatalf("%s: %q; encoded %s: %q, %v", b, op, enc, op2, err)
		}
	})
}
