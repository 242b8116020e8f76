// Command potgen asks a model for seeded outputs on a secret challenge set
// and writes them as a pot stream. See doc.go for its usage.
package main

import "os"

func main() { os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr)) }
