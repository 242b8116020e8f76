// Potstat describes pot streams: what a stream holds (model, challenge set,
// sampling, records, completeness), every record as JSON for jq, and
// whether a stream is intact. Run `potstat --help` for the full usage.
//
//	potstat ref.pot                   # a summary
//	potstat --json ref.pot | jq .records
//	potstat --records ref.pot | jq -r .text
//	potstat --verify *.pot            # checksums, trailers and digests
//	potstat --between ref.pot cand.pot --plot dist.svg   # how far apart
package main

// usageText is the synopsis shown by --help.
const usageText = `potstat [--json] [--mixed] [FILE|-]...   summary of each stream
potstat --records [FILE|-]...            every record as one JSON object a line
potstat --verify [--pubkey FILE]... [FILE|-]...   integrity: checksums, trailers, digests, signatures
potstat --between [--json] [--plot FILE.svg] A B   distributional distance`

// description is the body of --help: what the tool is for, how to read its
// output, and the JSON field names, which scripts may rely on.
const description = `potstat tells what is in a pot stream (a challenge set, or a model's outputs
on one) and whether the stream is whole. "-" or no file is standard input.

SUMMARY (the default): per file, its kind, segments, records, distinct
challenges and samples per challenge, the model (backend, name, weights
digest, server fingerprint, perturbation), the challenge set (id,
commitment, run id, family, count), the sampling parameters, tokens, failed
records, finish reasons, and completeness: whether the records cover
challenges 0..count-1 of the set with the header's number of samples each.
The status line says whether every segment ended with a verified trailer
(intact) or where the stream is damaged; a damaged stream's summary still
counts every record read before the damage.
Counting challenges keeps one bit per (challenge, sample) pair up to the
largest challenge index seen: 1.25 MB for 10 million one-sample challenges.
--records and --verify use the same small memory whatever the stream.

--json prints the summary as one JSON object per file, one a line, with
these fields (absent when empty, where marked *):
  file                 the name given, "<stdin>" for standard input
  intact               true when the stream was read to its end and every
                       segment's trailer (count and digest) matched
  error *              why it is not intact: "record N (byte B, segment S): ..."
  kind *               "outputs" or "challenges"
  segments, trailers   segments started, trailers verified
  records, bytes       records read, compressed bytes read
  challenges           distinct challenges (by index)
  samples_min, samples_max   records per challenge
  expected_challenges  the set's challenge count from the header (0: unknown)
  expected_samples     samples per challenge from the header (1 for challenges)
  complete             true when challenges 0..expected_challenges-1 all have
                       samples 0..expected_samples-1; null when the count is unknown.
                       For one shard alone (header.shard.count > 0), whose share
                       only the key tells: true when it is intact and every
                       challenge it holds has all its samples
  missing              challenges of the set without all their samples (of a
                       shard alone: challenges it holds without all of them)
  missing_first *      the first of them (up to 10 indices)
  outside              records whose challenge index is not below the count
  duplicates           records repeating a (challenge, sample) already seen
  tokens, tokens_mean  generated positions in all, and per record
  errors               records that carry a backend error
  first_error *        the first one: "record K (challenge I, sample S): ..."
  finish *             records per finish reason
  latency_mean_ms      mean latency of the records that report one
  mixed *              how later segments differ from the first (--mixed)
  header *             the first segment's header, named as in the format
                       package's Header: header.model.{backend,name,digest,
                       vocab,fingerprint,build,perturb}, header.challenges.{id,
                       commitment,run_id,family,count}, header.sampling.{
                       temperature,top_p,top_k,max_tokens,logprobs,samples,
                       seed}, header.shard.{index,count,by}, created, tool, labels

--records prints each record as one JSON object a line, as it is read,
with the fields index, id, sample, seed, prompt, tokens, logprobs,
token_bytes, top_k, top_tokens, top_logprobs, top_bytes, text, finish,
latency_ms, attempts, error. index, id, sample and seed are always there;
the others only when not empty. top_tokens, top_logprobs and top_bytes hold
one array of top_k entries per position. A log-probability of -Inf (a padded
alternative) is null. token_bytes and top_bytes are each token's bytes, what
identifies it across backends: a string, or an array of byte values when not
valid UTF-8 (part of a character), null when unknown.

--verify reads each stream to its end and checks every frame checksum,
segment trailer and digest, and every segment's signature (potgen --sign).
It prints one line a file, "FILE: ok (N records, S segments)" (with ",
signed by KEYID..." or ", K signed by KEYID..." when segments are signed)
or "FILE: DAMAGED: <where and what>", and exits 0 only when every file is
intact, after checking them all. A signature that does not verify is
damage. With --pubkey FILE (repeatable; a file may hold several keys, any
of them trusted) every segment must be signed by a trusted key, or the line
is "FILE: UNTRUSTED: <segment and signer>". Streams written before
signatures existed verify as before without --pubkey.

--between compares two outputs streams of the same challenge set (other
models, or the same model twice). Records are joined on challenge id and
sample; a pair where either record failed is counted, not compared. For the
compared pairs it gives the distribution of each per-pair score both
streams support (tv, prob, tokens, text, as in potcmp; strongest first),
and distances between the two streams' outputs taken as wholes: the total
variation between the unigram distributions of generated token ids (only
when the vocabulary digests match) and of generated characters, and the
two-sample Kolmogorov-Smirnov statistic between the chosen tokens'
log-probabilities (all positions) and between output lengths (in tokens
under one vocabulary, else in characters). All are 0 for identical outputs
and at most 1. Streams of different challenge sets are refused.
A is held in memory whole, one record per challenge and sample; besides,
every per-pair score value and every chosen log-probability of both
streams is kept (8 bytes each): fine for reference sets, heavy for
millions of records.
When both streams hold several samples a challenge (potgen --samples K,
sampled), --between also says whether the distance across seeds is noise:
per challenge, the first tokens of A's and B's samples (token ids under one
vocabulary, else first words) as two distributions, compared by total
variation, Jensen-Shannon (bits) and KL both ways (bits, each token of the
challenge's support given 0.5 extra counts), and the rate of identical
outputs among pairs. Each is the mean over challenges with a 95% bootstrap
interval over challenges (percentile; approximate: a nominal 90% covered
86% to 91% in simulations), the mean the same statistic takes when A's and
B's labels are swapped at random within pairs (plug-in distances of a few
samples are not 0 even for one model), and the permutation p-value against
it over 1000 relabellings: a small p says the distance is not noise.
--plot FILE.svg also writes an SVG with two histograms: the strongest
score's per-pair values, and the chosen log-probabilities of A and B. The
file is written whole or not at all; only .svg is supported.
With --json the report is one JSON object with these fields (absent when
there is nothing to compare, where marked *):
  ref, cand            the names given for A and B ("<stdin>" for standard
                       input), as potcmp names its reference and candidate
  pairs                (challenge id, sample) present in both streams
  ref_unmatched        records of A without a partner in B
  unmatched            records of B without a partner in A
  failed               pairs skipped because a record carries an error
  compared             pairs compared: pairs - failed
  duplicates           records repeating a (challenge, sample) of their
                       stream, ignored after the first
  scores               per score, strongest first: {name, n, mean, sd, q50,
                       q90, q99, max, zero}; zero is the fraction of pairs
                       scoring exactly 0 (identical outputs)
  skipped_scores *     score name: why it could not be computed
  same_vocab           both headers name the same vocabulary digest
  token_tv *           TV of the generated token-id unigrams (same_vocab)
  char_tv *            TV of the generated character unigrams
  logprob_ks *         KS of the chosen tokens' log-probabilities
  length_ks *          KS of the output lengths, in length_unit
  length_unit          "tokens" (same_vocab) or "chars"
  tokens_ref, tokens_cand, chars_ref, chars_cand, logprobs_ref,
  logprobs_cand        the sample sizes behind the distances
  across_seeds *       with several samples a challenge: {challenges,
                       skipped, level, resamples, kl_smoothing, first_token
                       ("id" or "word"), tv, js_bits, kl_ref_cand_bits,
                       kl_cand_ref_bits, match}, each {est, lo, hi, null, p}
                       (match has no null or p), and per_challenge: [{id,
                       tv, js_bits, kl_ref_cand_bits, kl_cand_ref_bits,
                       match}], each [est, lo, hi] over the challenge's
                       samples (match: Clopper-Pearson), null where undefined

Segments whose headers are incompatible (another model, challenge set or
sampling) are an error unless --mixed is given.

Exit status: 0 all intact, 1 a write failed, 2 bad usage or a damaged,
untrusted (--pubkey), missing or unreadable input (each reported on one
stderr line, or on stdout with --verify).

Examples:
  potgen --model synth:1 --key audit.key -n 50 -o ref.pot
  potgen --model synth:1,perturb=noise:0.05 --key audit.key -n 50 -o cand.pot
  potstat ref.pot cand.pot
  potstat --json ref.pot | jq '{records, complete, model: .header.model.name}'
  potstat --records ref.pot | jq -r 'select(.error) | .id'
  potsplit -n 4 -o 'shard-{}.pot' ref.pot && cat shard-*.pot | potstat -
  potstat --verify *.pot || echo 'some streams are damaged'
  potstat --between ref.pot cand.pot --plot dist.svg
  potgen signkey -o archive.sign
  potgen --model synth:1 --key audit.key -n 50 --sign archive.sign -o signed.pot
  potstat --verify --pubkey archive.sign.pub signed.pot
  potstat --between --json ref.pot cand.pot | jq '.scores[0]'`
