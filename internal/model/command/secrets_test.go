package command

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/model"
)

// A command gets no credential of potgen's in its environment, and what it
// hands back has none of them in it even when it finds them elsewhere.
func TestNoCredentials(t *testing.T) {
	const openaiKey, otherKey, fileKey = "sk-default-0123456789SECRET", "sk-other-0123456789SECRET", "sk-file-0123456789SECRET"
	t.Setenv(DefaultAPIKeyEnv, openaiKey)
	t.Setenv("POT_TEST_CREDENTIAL", otherKey)
	t.Setenv("POT_TEST_KEEP", "kept")
	keyFile := filepath.Join(t.TempDir(), "api.key")
	if err := os.WriteFile(keyFile, []byte(fileKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	echo := filepath.Join(t.TempDir(), "echo")
	os.WriteFile(echo, []byte(openaiKey+" "+otherKey+" "+fileKey), 0o600)

	r := open(t, "cat >/dev/null; env", model.Options{APIKeyEnv: "POT_TEST_CREDENTIAL", APIKeyFile: keyFile})
	var rec format.Record
	if err := r.Generate(context.Background(), query, &rec); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rec.Text, "POT_TEST_KEEP=kept") || !strings.Contains(rec.Text, "POT_SEED=") {
		t.Fatalf("the environment lost more than the credentials:\n%s", rec.Text)
	}
	for _, name := range []string{DefaultAPIKeyEnv + "=", "POT_TEST_CREDENTIAL="} {
		if strings.Contains(rec.Text, name) {
			t.Errorf("the command got %s", name)
		}
	}

	if name := open(t, "echo "+otherKey, model.Options{APIKeyEnv: "POT_TEST_CREDENTIAL"}).Info().Name; strings.Contains(name, otherKey) {
		t.Errorf("header names the command as %q", name)
	}

	// A command that finds the keys anyway (here in a file) hands back text,
	// JSON fields and errors without them.
	for _, cmd := range []string{
		"cat >/dev/null; cat " + echo,
		`cat >/dev/null; printf '{"text":"%s","finish":"%s","pieces":["%s"],"logprobs":[-1]}' "$(cat ` + echo + `)" "$(cat ` + echo + `)" "$(cat ` + echo + `)"`,
		"cat >/dev/null; cat " + echo + " >&2; exit 1",
	} {
		r := open(t, cmd, model.Options{APIKeyEnv: "POT_TEST_CREDENTIAL", APIKeyFile: keyFile, Retries: -1})
		var rec format.Record
		err := r.Generate(context.Background(), query, &rec)
		seen := strings.Join(append(rec.TokenBytes, rec.Text, rec.Finish), " ")
		if err != nil {
			seen += " " + err.Error()
		}
		if !strings.Contains(seen, "[redacted]") {
			t.Errorf("%s: nothing redacted in %q", cmd, seen)
		}
		for _, k := range []string{openaiKey, otherKey, fileKey} {
			if strings.Contains(seen, k) {
				t.Errorf("%s: %s handed back in %q", cmd, k, seen)
			}
		}
	}
}

func TestJSONPieces(t *testing.T) {
	var rec format.Record
	out := `{"text":" the cat","tokens":[5,7],"pieces":[" the"," cat"],"logprobs":[-1,-2],
	  "top_tokens":[[5,9],[7,5]],"top_pieces":[[" the","bytes:\\xe2\\x80"],[" cat"," the"]],"top_logprobs":[[-1,-3],[-2,-4]]}`
	if err := parse([]byte(out), 2, &rec); err != nil {
		t.Fatal(err)
	}
	if b, _ := rec.Bytes(1); b != " cat" {
		t.Errorf("position 1 is %q", b)
	}
	if b, _ := rec.TopBytesAt(0, 1); b != "\xe2\x80" {
		t.Errorf("alternative (0, 1) is %q", b)
	}
	var named format.Record
	if err := parse([]byte(`{"text":"ab","pieces":["a","b"],"logprobs":[-1,-2],"top_pieces":[["a"],["b"]],"top_logprobs":[[-1],[-2]]}`), 1, &named); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(named.TokenBytes, []string{"a", "b"}) || !slices.Equal(named.TopBytes, []string{"a", "b"}) || named.Pieces != nil {
		t.Errorf("without ids: %+v", named)
	}
	for _, bad := range []string{
		`{"tokens":[5,5],"pieces":["a","b"]}`, // one id, two byte strings
		`{"tokens":[5,6],"pieces":["a"]}`,     // pieces for other positions
		`{"logprobs":[-1],"top_logprobs":[[-1]],"top_pieces":[["a","b"]]}`,
	} {
		var rec format.Record
		if err := parse([]byte(bad), 1, &rec); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}

	// Across answers: an id that changes its bytes fails the query.
	dir := t.TempDir()
	n := filepath.Join(dir, "n")
	r := open(t, `cat >/dev/null; if [ -e `+n+` ]; then echo '{"tokens":[5],"pieces":["x"]}'; else touch `+n+`; echo '{"tokens":[5],"pieces":["a"]}'; fi`, model.Options{Retries: -1})
	var first, second format.Record
	if err := r.Generate(context.Background(), query, &first); err != nil {
		t.Fatal(err)
	}
	if err := r.Generate(context.Background(), query, &second); err == nil || !strings.Contains(err.Error(), "token 5") {
		t.Errorf("id 5 changed its bytes: %v", err)
	}
	if b, _ := first.Bytes(0); b != "a" || first.Pieces == nil {
		t.Errorf("first answer's id 5 reads %q", b)
	}
}
