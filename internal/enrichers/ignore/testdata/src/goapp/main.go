package main

import "crypto/md5" // dracon:ignore G501 md5 is used for cache keys, not security

func main() {
	// dracon:ignore G401 cache key only
	h := md5.New()
	_ = h
	exec("ls") // dracon:ignore G204
}
