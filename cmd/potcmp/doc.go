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

Each (challenge, sample) pair is scored in [0, 1] (0: identical); each score
has its own default tolerance, measured on real pairs (README, "Tolerances"):
  tv      total variation between next-token distributions (needs top-k
          logprobs); tolerance 0.05: accepts f16, int8, Q8_0, Q6_K weights and
          noise of sigma 0.01 (means 0.0004 to 0.024), rejects 4-bit files
          (0.088 and up) and other weights
  prob    difference of the chosen tokens' probabilities (needs logprobs);
          tolerance 0.1: accepts f16 and int8 (0.006, 0.058), rejects Q4_0
          (0.21); noise of sigma 0.01 (0.107) sits at it
  tokens  first divergence of the token ids; tolerance 0.25: accepts f16 and
          int8 (0.011, 0.153), rejects noise (0.30) and Q4_0 (0.63)
  text    normalised edit distance of the texts (any two models); tolerance
          0.15: accepts f16 and int8 (0.007, 0.098), rejects noise (0.198),
          Q4_0 (0.38) and other models (0.8)
  mmd     unbiased kernel two-sample statistic over the K >= 2 samples of a
          challenge (sampled outputs, any seeds; one score per challenge):
          mean exactly 0 for the same model, so the tolerance (0.05) is a
          distance: under one vocabulary (token kernel, max-tokens positions)
          the mean over positions of half the squared distance between the
          two models' token distributions there, for greedy models the
          fraction of positions that differ; otherwise (text kernel: other
          vocabularies, backends without token ids) half the squared
          distance between the models' mean character-trigram profiles
  rank    one sampled candidate output a challenge, ranked by its
          log-likelihood under a trusted model among the reference's own
          samples (both streams through potgen score, candidate drawn with
          another --seed); its own test, below; tolerance 0.1
  auto    the strongest both streams support (tv > prob > tokens > text)

Token ids mean the same only under one vocabulary. They compare when both
headers state the same vocabulary digest, or, where a side states none (a
server), when every id seen on both sides has the same bytes on both (checked
on the first pairs, and again on all pairs read before the verdict stands) and
the vocabulary sizes agree where both state one. Where a side gives no ids at
all (legacy token strings, chat), tv and prob key the distributions by token
bytes. Where both give ids that do not compare (another vocabulary), or a side
withholds the bytes of its ids, only text is left: auto takes it, and an id
score asked for is refused naming an id that differs. --tokens-by ids trusts
the ids as one vocabulary's; --tokens-by bytes matches tokens by bytes. The
verdict says what the score rests on: by=digest, by=ids:N (ids checked on N
tokens), by=bytes, by=asserted (--tokens-by ids) or by=text.

A sequential test (betting: Waudby-Smith and Ramdas; eb: empirical Bernstein)
keeps a confidence interval on the mean score that holds at every n at once:
SAME when its upper bound is at most the tolerance, DIFFERENT when its lower
bound exceeds it, UNDECIDED when --max-n scores or the candidate run out.
Guarantee: P(wrong verdict) <= alpha for each kind of error, whatever the
stopping time. Identical outputs need about ln(1/alpha)/-ln(1-tolerance)
scores (90 for tv at its default) before any valid test can say SAME.

A candidate record that failed after its retries is scored 1, the largest
distance, so that failing where it would differ cannot make SAME likelier than
alpha; failed=K on the verdict line counts them. Under mmd a challenge with a
failed sample scores 1; under rank a failed or unscored output counts as the
worst case for every bound of the test. --skip-failures skips them
instead (failed=K(skipped)): the guarantee then assumes that the failures do
not depend on what the model would have answered. A reference record that
failed is skipped and noted. A candidate with no successful record (a dead
endpoint) is trouble, exit 2. Candidate records with no reference are counted. A
truncated or damaged candidate is decided on what was read, and says so.
Streams from different challenge sets, or sampled with different
temperature, top-p, top-k or max-tokens, are refused; so are sampled streams
of different seeds under a score that compares samples one by one (tokens,
prob, text): compare those with tv or mmd.

Output: one line per comparison on stdout,
  SAME n=98 mean=0.0000 bounds=[0.0000,0.0496] score=tv by=digest failed=0 alpha=0.01 tolerance=0.05 test=betting ref=REF cand=CAND
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

--score rank tests that the candidate's randomised ranks are uniform, as they
are exactly when it is the trusted model: DIFFERENT when a test martingale
(bets on the mean rank and on histograms of 4 and 16 cells) reaches 1/alpha,
so P(DIFFERENT) <= alpha for the trusted model; SAME when confidence
sequences put the ranks' distribution function within the tolerance of
uniform at every decile (default 0.1: about 700 challenges at alpha 0.01),
so P(SAME) <= alpha for a candidate farther than that. The mean printed is
that distance as estimated. One candidate query per challenge:
  potgen --model llama2c:stories260K.bin,tokenizer=tok512.bin --key k -n 2000 --temperature 1 --samples 10 --seed 1 |
    potgen score --by text --model llama2c:stories260K.bin,tokenizer=tok512.bin -o ref.pot -
  potgen --model openai:URL --key k -n 2000 --temperature 1 --seed 2 |
    potgen score --by text --model llama2c:stories260K.bin,tokenizer=tok512.bin - | potcmp --score rank ref.pot -

--calibrate A B scores every pair of two runs of the same model and prints
the noise floor (mean, 0.95 quantile, upper bound) and a suggested
tolerance for the score it used (said on stderr), for servers whose outputs
are not exactly reproducible.

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
