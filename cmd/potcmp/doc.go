// Command potcmp tells whether a candidate model behaves like a reference
// model: it joins their output streams challenge by challenge, scores each
// pair in [0, 1] and runs an anytime-valid sequential test that stops at the
// first SAME or DIFFERENT it can state at the chosen error level. Its exit
// status follows cmp(1): 0 SAME, 1 DIFFERENT, 2 trouble, 3 UNDECIDED.
//
// Run potcmp --help for the usage text, which is the description below.
package main

const usageText = `potcmp [options] REF [CAND|-]...
potcmp [options] --refs REF... CAND|-
potcmp [options] --calibrate A B`

const description = `potcmp compares a candidate model's outputs with a reference's on the same
secret challenges and says SAME or DIFFERENT with a stated error rate, from as
few challenges as it can. REF is read whole; the candidate is read as it comes
(- or no argument is standard input), in any order, and potcmp stops reading
as soon as it has decided: in a pipe from potgen, that stops the queries.

Each (challenge, sample) pair is scored in [0, 1] (0: identical):
  tv      total variation between next-token distributions (needs top-k logprobs)
  prob    difference of the chosen tokens' probabilities (needs logprobs)
  tokens  first divergence of the token ids
  text    normalised edit distance of the texts (any two models)
  mmd     kernel two-sample statistic over the K samples of a challenge
          (sampled, unseeded outputs; one score per challenge)
  auto    the strongest both streams support (tv > prob > tokens > text),
          decided from the headers and the first pair; token ids of different
          vocabularies are never compared
A sequential test (betting: Waudby-Smith and Ramdas; eb: empirical Bernstein)
keeps a confidence interval on the mean score that holds at every n at once:
SAME when its upper bound is at most the tolerance, DIFFERENT when its lower
bound exceeds it, UNDECIDED when --max-n scores or the candidate run out.
Guarantee: P(wrong verdict) <= alpha for each kind of error, whatever the
stopping time. Identical outputs need about ln(1/alpha)/-ln(1-tolerance)
scores (90 at the defaults) before any valid test can say SAME.

Records that failed (an error on either side) are skipped and counted, never
scored as agreement; candidate records with no reference are counted. A
truncated or damaged candidate is decided on what was read, and says so.
Streams from different challenge sets, or sampled with different
temperature, top-p, top-k or max-tokens, are refused; so are sampled streams
of different seeds under a score that compares samples one by one (tokens,
prob, text): compare those with tv or mmd.

Output: one line per comparison on stdout,
  SAME n=98 mean=0.0000 bounds=[0.0000,0.0496] score=tv alpha=0.01 tolerance=0.05 test=betting ref=REF cand=CAND
and notes on stderr; --json writes one JSON object per comparison instead
(with --refs, one object holding every result and the matches).
--transcript FILE records every score with the running bounds, one JSON line
each, and the verdict last, so that an audit can be re-checked later.

Exit status: 0 SAME, 1 DIFFERENT, 2 trouble (bad usage, unreadable
reference, streams that cannot be compared), 3 UNDECIDED. With several
candidates the status answers "is every candidate the same?": 2 if any
comparison had trouble, else 1 if any is DIFFERENT, else 3 if any is
UNDECIDED, else 0. With --refs: 0 if exactly one reference is SAME, 1 if none
is and all are DIFFERENT or if several are SAME (the references are not told
apart), 3 if none is SAME yet some are UNDECIDED, 2 on trouble. If no
candidate record has a reference record (no challenge in common), that is
trouble: 2.

Signed streams (potgen --sign): --ref-pubkey FILE requires every segment of
every reference to be signed by a key in FILE (repeatable; a file may hold
several keys, any of them trusted); a reference file that is not is refused
before the candidate is read. --cand-pubkey FILE does the same for the
candidates, which are then read to their end before the verdict, since a
segment's signature is in its trailer: a candidate piped from potgen no
longer stops early. A signature that does not verify is trouble with or
without these flags.

--calibrate A B scores every pair of two runs of the same model and prints
the noise floor (mean, 0.95 quantile, upper bound) and a suggested
tolerance, for servers whose outputs are not exactly reproducible.

Examples:
  potgen --model llama2c:stories260K.bin,tokenizer=tok512.bin --key audit.key -n 200 -o ref.pot
  potgen --model openai:http://127.0.0.1:8080/v1 --key audit.key -n 200 | potcmp ref.pot -
  potgen --model gguf:stories260K.gguf --key audit.key -n 200 -o cand.pot
  potcmp --alpha 0.001 --transcript audit.jsonl ref.pot cand.pot
  potgen --model llama2c:aidreams260K.bin,tokenizer=aidreams-tok512.bin --key audit.key -n 20 -o other.pot
  potcmp ref.pot cand.pot other.pot  # exit 1: other.pot is DIFFERENT
  potcmp --refs other.pot ref.pot cand.pot
  potcmp --score text --json ref.pot cand.pot
  potcmp --calibrate ref.pot cand.pot
  potgen signkey -o archive.sign
  potgen --model llama2c:stories260K.bin,tokenizer=tok512.bin --key audit.key -n 200 --sign archive.sign -o signed.pot
  potcmp --ref-pubkey archive.sign.pub signed.pot cand.pot`
