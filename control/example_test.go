package control_test

import (
	"fmt"

	"github.com/imustream/imustream/control"
)

// A controller signs a command; the daemon checks it and signs its reply
// for that command. (The key and values are the test vector of
// docs/protocol.md.)
func ExampleKey_CommandTag() {
	var key control.Key
	for i := range key {
		key[i] = byte(i)
	}
	cmd := control.Command{ID: "7", Verb: control.VerbStart, Target: ":9000", Lease: 5e9, From: "lab-pc", TS: 1767225600000000}
	body := []byte(cmd.String())
	line := control.AppendSigned(nil, body, key.CommandTag(body))
	fmt.Printf("%s", line)

	signed, tag, err := key.VerifyCommand(line)
	fmt.Println(string(signed) == cmd.String(), err)
	reply := []byte("ok id=7 start to=192.168.1.20:9000 lease=5s new=true subscribers=1")
	fmt.Println(key.ReplyTag(tag, reply))
	// Output:
	// id=7 start :9000 lease=5s from=lab-pc ts=1767225600000000 sig=6f121c2a73b5070f7b891b9dc9c13a6f
	// true <nil>
	// d05f5bbad4ec819f85d12812a107748f
}
