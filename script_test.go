package pot_test

// End-to-end pipelines: the scripts in testdata/script run the four real
// binaries in shell pipelines, as a user would from the README.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pot-audit/pot/internal/compare"
	"github.com/pot-audit/pot/internal/generate"
)

func TestScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the tools")
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+string(os.PathSeparator), "./cmd/potgen", "./cmd/potcmp", "./cmd/potstat", "./cmd/potsplit")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	models := os.Getenv("POT_MODELS")
	if models == "" {
		models, _ = filepath.Abs("../shared/models")
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			env.Setenv("POT_MODELS", models)
			env.Setenv("NCPU", strconv.Itoa(runtime.NumCPU()))
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "models" {
				_, err := os.Stat(filepath.Join(models, "stories260K.bin"))
				return err == nil, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"queries": queriesCmd,
			"serve":   serveCmd,
		},
	})
}

// queriesCmd checks early stopping: `queries COUNTFILE VERDICT.json JOBS
// [SCOREJOBS]` passes when the model was queried (one line per query in
// COUNTFILE) at least as often as potcmp used scores (n in its JSON
// verdict) and at most Waste(JOBS) more: the bound potgen's help states,
// which holds at every scheduling, so the check holds on a loaded machine
// too. With SCOREJOBS, a potgen score -j SCOREJOBS stood between potgen
// and potcmp, and the bound is ScoreWaste, which its help states.
func queriesCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 || len(args) > 4 {
		ts.Fatalf("usage: queries COUNTFILE VERDICT.json JOBS [SCOREJOBS]")
	}
	made := strings.Count(ts.ReadFile(args[0]), "\n")
	var v struct {
		N int `json:"n"`
	}
	if err := json.Unmarshal([]byte(ts.ReadFile(args[1])), &v); err != nil {
		ts.Fatalf("%s: %v", args[1], err)
	}
	jobs, err := strconv.Atoi(args[2])
	if err != nil {
		ts.Fatalf("jobs: %v", err)
	}
	bound := generate.Waste(jobs, compare.ReadAhead)
	if len(args) == 4 {
		scoreJobs, err := strconv.Atoi(args[3])
		if err != nil {
			ts.Fatalf("score jobs: %v", err)
		}
		bound = generate.ScoreWaste(jobs, scoreJobs, compare.ReadAhead)
	}
	ts.Logf("potcmp used %d scores; the model was queried %d times (bound %d more)", v.N, made, bound)
	if made < v.N || made > v.N+bound {
		ts.Fatalf("model queried %d times for %d scores: more than the %d the bound allows", made, v.N, bound)
	}
}
