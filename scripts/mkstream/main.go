// Command mkstream writes a synthetic pot stream, the one the tools' script
// tests make with their mkstream command (internal/streamtest), for
// measurements on large streams: scripts/memory.sh.
//
//	go run ./scripts/mkstream -n 10000000 -tokens 64 -o big.pot
package main

import (
	"os"

	"github.com/pot-audit/pot/internal/streamtest"
)

func main() { os.Exit(streamtest.Mkstream()) }
