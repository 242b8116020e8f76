package main

import (
	"errors"
	"fmt"
	"io/fs"

	ucli "github.com/urfave/cli/v2"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/signkey"
)

// signFlag is --sign on every command that writes a stream; a new one
// each time, since a flag holds its parsed value.
func signFlag() ucli.Flag {
	return &ucli.StringFlag{Name: "sign", Usage: "sign every segment written with the private key `NAME` (from potgen signkey)"}
}

func signkeyCommand() *ucli.Command {
	return &ucli.Command{
		Name:        "signkey",
		Usage:       "write a new signing key pair: NAME (private, 0600) and NAME.pub",
		UsageText:   "potgen signkey -o NAME",
		Description: signkeyUsage,
		Flags:       []ucli.Flag{&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "private key file `NAME` to create; the public key goes to NAME.pub"}},
		Action:      signkeyAction,
	}
}

func signkeyAction(c *ucli.Context) error {
	env := cli.EnvOf(c)
	if c.NArg() > 0 {
		return cli.Usagef("signkey takes no arguments (the key file is -o NAME)")
	}
	name := c.String("output")
	switch name {
	case "":
		return cli.Usagef("signkey: -o NAME is required: the private key goes to NAME and the public key to NAME.pub")
	case "-":
		return cli.Usagef("signkey: -o -: a private signing key is never written to standard output; name a file")
	}
	pub, err := signkey.Generate(name, nil)
	var pe *fs.PathError
	if errors.Is(err, signkey.ErrBadKey) || errors.As(err, &pe) {
		// The file exists, or its folder does not or may not be written:
		// the user chooses another name.
		return cli.Usage(err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "potgen: wrote %s (private: keep it secret) and %s (public key %s: publish it)\n",
		name, signkey.PublicFile(name), format.KeyID(pub))
	return nil
}
