package main

import "fmt"

func main() { fmt.Println("the project's own code") }
