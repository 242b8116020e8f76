package compare

import (
	"fmt"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/score"
	"github.com/pot-audit/pot/internal/seqtest"
)

// mmdSetup is what --score mmd scores a challenge with: the kernel and the
// sequential test at tolerance tol over the statistic's range. The token
// kernel is taken when ids says both streams' token ids mean the same (one
// vocabulary) and the streams' max tokens fix its length; otherwise the
// text kernel, so that other vocabularies and backends without token ids
// still compare.
func mmdSetup(cfg Config, tol float64, refName, candName string, ref, cand *format.Header, ids bool) (score.Kernel, seqtest.Test, error) {
	m, n := max(ref.Sampling.Samples, 1), max(cand.Sampling.Samples, 1)
	if m < 2 || n < 2 {
		return score.Kernel{}, nil, cli.BadInputf("%s vs %s: --score mmd needs at least 2 samples per challenge on each side (potgen --samples), got %d and %d",
			refName, candName, m, n)
	}
	k := score.TextKernel()
	if ids && ref.Sampling.MaxTokens > 0 {
		var err error
		if k, err = score.TokenKernel(ref.Sampling.MaxTokens); err != nil {
			return score.Kernel{}, nil, cli.BadInput(err)
		}
	}
	lo, hi := score.UnbiasedMMDRange(m, n)
	t, err := seqtest.NewRange(cfg.Test, cfg.Alpha, tol, lo, hi)
	if err != nil {
		return score.Kernel{}, nil, cli.Usage(fmt.Errorf("--score mmd over [%.4f, %.4f]: %w", lo, hi, err))
	}
	return k, t, nil
}

// mmdScore is the unbiased mmd of one challenge under kernel k. The text
// kernel would find every text-less output alike, so a sample that has
// tokens but no text is refused rather than scored as agreement.
func mmdScore(refs, cand []format.Record, k score.Kernel) (float64, error) {
	if k.String() == "text" {
		for _, side := range [][]format.Record{refs, cand} {
			for i := range side {
				if r := &side[i]; r.Err == "" && r.Text == "" && r.Positions() > 0 {
					return 0, fmt.Errorf("%w: the text kernel of mmd needs the text of every output (sample %d has tokens and no text)", score.ErrMissing, r.Sample)
				}
			}
		}
	}
	return score.UnbiasedMMD(refs, cand, k)
}
