// Command dracon runs security scanners, normalises their findings,
// deduplicates them, publishes them and gates on them.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/draconsec/dracon/internal/cli"
)

func main() {
	// Ctrl-C or SIGTERM cancels the context; the runner then stops every
	// scanner's whole process group.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
