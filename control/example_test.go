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
	cmd := control.Command{ID: "7", Verb: control.VerbStart, Target: ":9000", Lease: 5e9,
		Nonce: "000102030405060708090a0b0c0d0e0f", From: "lab-pc", TS: 1767225600000000, Boot: "8f3a5c1e9d0b2746"}
	body := []byte(cmd.String())
	line := control.AppendSigned(nil, body, key.CommandTag(body))
	fmt.Printf("%s", line)

	signed, tag, err := key.VerifyCommand(line)
	fmt.Println(string(signed) == cmd.String(), err)
	reply := []byte("ok id=7 start to=192.168.1.20:9000 lease=5s new=true subscribers=1 src=192.168.1.10:41020 tag=hmac-sha256")
	fmt.Println(key.ReplyTag(tag, reply))
	// Output:
	// id=7 start :9000 lease=5s nonce=000102030405060708090a0b0c0d0e0f from=lab-pc ts=1767225600000000 boot=8f3a5c1e9d0b2746 sig=55a0a4ca1c3241ab1ea48f8ee8b7fae3
	// true <nil>
	// 4a74a7a56343411a060c140991152d40
}
