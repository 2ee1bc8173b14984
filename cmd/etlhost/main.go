// Command etlhost runs analysts' Lua ETL scripts side by side, each in its
// own sandboxed state under a timeout, and reports the results.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/etlhost/etlhost/host"
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	again := make(chan struct{})
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "\ninterrupted: stopping (press Ctrl+C again to stop at once)")
		cancel(host.ErrInterrupted)
		<-sigs
		select {
		case again <- struct{}{}: // the worker cancels its jobs and exits
			<-sigs
		default:
		}
		os.Exit(ExitInterrupted)
	}()
	app := &App{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Again: again}
	os.Exit(app.Run(ctx, os.Args))
}
