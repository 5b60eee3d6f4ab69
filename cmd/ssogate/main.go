// Command ssogate serves a WorkOS SSO emulator to apps and SDKs in any
// language, looks at a WorkOS environment's SSO connections, checks a
// deployment's configuration and makes cookie secrets.
//
//	go install github.com/ssogate/ssogate/cmd/ssogate@latest
//
//	ssogate emulator [flags]             serve the emulator until interrupted
//	ssogate connections list|get|delete  the SSO connections of WORKOS_API_KEY
//	ssogate organizations list|get|create  the organizations of WORKOS_API_KEY
//	ssogate portal-link -organization ID a link to the Admin Portal, to set one up
//	ssogate doctor [flags]               check the environment an app reads
//	ssogate secret                       print a new cookie secret
//
// Each subcommand takes -h. Exit codes: 0 success, 1 WorkOS (or a check)
// said no, 2 bad usage or input.
//
// It uses the standard library's flag package: six subcommands with a few
// flags each do not need a CLI framework, and the command stays within the
// library's own dependencies.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

// Exit codes.
const (
	exitOK    = 0
	exitNo    = 1 // WorkOS refused, or a check failed
	exitUsage = 2 // bad flags, arguments or input files
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}))
}

// env is what a subcommand sees of the world.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// usageError is a mistake in the command line or its input; it exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

const mainUsage = `ssogate: single sign-on through WorkOS, from the command line.

Usage:
  ssogate emulator [flags]             serve a WorkOS SSO emulator until interrupted
  ssogate connections list [flags]     list the SSO connections of WORKOS_API_KEY
  ssogate connections get ID           show one connection
  ssogate connections delete ID        delete one connection (asks first)
  ssogate organizations list [flags]   list the organizations of WORKOS_API_KEY
  ssogate organizations get ID         show one organization
  ssogate organizations create [flags] create one, with its domains
  ssogate portal-link [flags]          print a link to the Admin Portal for an organization's IT admin
  ssogate doctor [flags]               check the configuration an app reads from its environment
  ssogate secret                       print a new random cookie secret

Run "ssogate COMMAND -h" for a command's flags and an example.
Exit codes: 0 success, 1 WorkOS or a check said no, 2 bad usage.
`

// run runs the command line args and returns the exit code.
func run(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, mainUsage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "emulator":
		err = runEmulator(ctx, args[1:], e)
	case "connections":
		err = runConnections(ctx, args[1:], e)
	case "organizations":
		err = runOrganizations(ctx, args[1:], e)
	case "portal-link":
		err = runPortalLink(ctx, args[1:], e)
	case "doctor":
		err = runDoctor(ctx, args[1:], e)
	case "secret":
		err = runSecret(args[1:], e)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, mainUsage)
		return exitOK
	default:
		fmt.Fprintf(e.stderr, "ssogate: unknown command %q\n\n%s", args[0], mainUsage)
		return exitUsage
	}
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintln(e.stderr, "ssogate:", err)
		return exitUsage
	}
	// Errors of the library say "ssogate:" already.
	fmt.Fprintln(e.stderr, "ssogate:", strings.TrimPrefix(err.Error(), "ssogate: "))
	return exitNo
}

// newFlags returns a flag set for a subcommand whose usage prints synopsis,
// the flags and an example, and whose errors are usage errors.
func newFlags(e env, name, synopsis, example string) *flag.FlagSet {
	fs := flag.NewFlagSet("ssogate "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ssogate %s\n\n", synopsis)
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nExample:\n%s\n", example)
	}
	return fs
}

// subcommand reads the subcommand of command name, one of subs, from
// args[0]. For -h it prints the command's usage and returns done; a missing
// or unknown subcommand is a usage error.
func subcommand(e env, name string, args []string, synopsis, example string, subs ...string) (sub string, done bool, err error) {
	want := strings.Join(subs[:len(subs)-1], ", ") + " or " + subs[len(subs)-1]
	if len(args) == 0 {
		return "", false, usagef("%s needs %s\n\nUsage: ssogate %s", name, want, synopsis)
	}
	switch {
	case slices.Contains(subs, args[0]):
		return args[0], false, nil
	case args[0] == "-h" || args[0] == "-help" || args[0] == "--help":
		fmt.Fprintf(e.stdout, "Usage: ssogate %s\n\nExample:\n%s\n", synopsis, example)
		return "", true, nil
	}
	return "", false, usagef("%s: unknown subcommand %q (want %s)", name, args[0], want)
}

// parse parses args with fs, turning a bad flag into a usage error.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err.Error()}
	}
	return nil
}

// runSecret prints a new cookie secret: 32 random bytes in base64, as
// WORKOS_COOKIE_PASSWORD takes it (44 characters).
func runSecret(args []string, e env) error {
	fs := newFlags(e, "secret", "secret",
		`  export WORKOS_COOKIE_PASSWORD="$(ssogate secret)"`)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("secret takes no arguments")
	}
	var b [32]byte
	rand.Read(b[:]) // never fails: see crypto/rand.Read
	fmt.Fprintln(e.stdout, base64.StdEncoding.EncodeToString(b[:]))
	return nil
}
