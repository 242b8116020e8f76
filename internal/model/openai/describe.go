package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/pot-audit/pot/internal/model/retry"
)

// props is what llama-server's GET /props says of itself.
type props struct {
	BuildInfo  string `json:"build_info"`
	ModelPath  string `json:"model_path"`
	TotalSlots int    `json:"total_slots"`
	Settings   struct {
		NCtx int `json:"n_ctx"`
	} `json:"default_generation_settings"`
}

// models is GET /v1/models; llama-server adds a meta object per model.
type models struct {
	Data []struct {
		ID      string                     `json:"id"`
		OwnedBy string                     `json:"owned_by"`
		Meta    map[string]json.RawMessage `json:"meta"`
	} `json:"data"`
}

// describe asks the server for its description, in parallel because a
// server that does not answer costs a timeout per probe. Only a refused key
// and an ambiguous model name fail Open: without the probes every query
// still works, and a server that is down is the retries' business.
func (c *client) describe() error {
	var wg sync.WaitGroup
	var pdata, mdata []byte
	var perr, merr error
	wg.Go(func() { pdata, perr = c.do(context.Background(), http.MethodGet, c.base+"/props", nil) })
	wg.Go(func() { mdata, merr = c.do(context.Background(), http.MethodGet, c.base+"/v1/models", nil) })
	wg.Wait()

	for _, e := range []error{merr, perr} {
		var se *StatusError
		if errors.As(e, &se) && (se.Code == http.StatusUnauthorized || se.Code == http.StatusForbidden) {
			return fmt.Errorf("openai: GET %s/v1/models: %w", c.info.Meta["url"], se)
		}
	}
	meta := c.info.Meta
	if perr == nil {
		var p props
		if err := json.Unmarshal(pdata, &p); err != nil {
			c.logf("openai: GET %s/props: ignoring malformed answer: %v", meta["url"], err)
		} else {
			c.info.Build = p.BuildInfo
			setNonZero(meta, "model_path", p.ModelPath)
			setNonZero(meta, "n_ctx", p.Settings.NCtx)
			setNonZero(meta, "total_slots", p.TotalSlots)
		}
	} else if !isNotFound(perr) {
		c.logf("openai: GET %s/props: %v", meta["url"], retryCause(perr))
	}

	var ids []string
	if merr == nil {
		var m models
		if err := json.Unmarshal(mdata, &m); err != nil {
			c.logf("openai: GET %s/v1/models: ignoring malformed answer: %v", meta["url"], err)
		}
		for _, d := range m.Data {
			ids = append(ids, d.ID)
		}
		if c.model == "" && len(m.Data) == 1 {
			c.model = m.Data[0].ID
			c.info.Name = c.model
		}
		for _, d := range m.Data {
			if d.ID != c.model {
				continue
			}
			setNonZero(meta, "owned_by", d.OwnedBy)
			keys := make([]string, 0, len(d.Meta))
			for k := range d.Meta {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if _, taken := meta[k]; !taken {
					setNonZero(meta, k, scalar(d.Meta[k]))
				}
			}
		}
	} else if !isNotFound(merr) {
		c.logf("openai: GET %s/v1/models: %v", meta["url"], retryCause(merr))
	}
	if c.model == "" && len(ids) > 1 {
		if len(ids) > 5 {
			ids = append(ids[:5], "...")
		}
		return fmt.Errorf("%w: the server has %d models (%s): choose one with ,model=NAME", ErrSpec, len(ids), strings.Join(ids, ", "))
	}
	if c.info.Name == "" && meta["model_path"] != "" {
		// Named for the header only: the server picks its one model itself.
		c.info.Name = path.Base(meta["model_path"])
	}
	return nil
}

func isNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && (se.Code == http.StatusNotFound || se.Code == http.StatusMethodNotAllowed)
}

// retryCause unwraps the retry.Temporary mark so a log line reads plainly.
func retryCause(err error) error {
	if temp, _ := retry.IsTemporary(err); temp {
		return errors.Unwrap(err)
	}
	return err
}

func setNonZero[T comparable](m map[string]string, k string, v T) {
	var zero T
	if v != zero {
		m[k] = fmt.Sprint(v)
	}
}

// scalar renders a JSON number, string or boolean as text; other values
// (objects, arrays) are left out of the header.
func scalar(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	case '{', '[', 'n':
		return ""
	}
	return string(raw)
}
