package main

import (
	"crypto/md5"
	"fmt"
	"os"
	"os/exec"
)

func main() {
	cmd := exec.Command(os.Args[1])
	_ = cmd.Run()
	fmt.Printf("%x\n", md5.Sum([]byte(os.Args[2])))
	_ = os.WriteFile("/tmp/out", []byte("x"), 0o777)
}
