// Potsplit cuts a pot stream (challenges or outputs) into shards, so that
// work fans out over several processes or machines; cat joins the shards
// again. Run `potsplit --help` for the full usage.
//
//	potsplit -n 8 -o 'ch-{}.pot' ch.pot      # 8 shards, a challenge's samples together
//	potsplit --records 1000 -o 'part-{}.pot' ref.pot
//	potsplit --size 64M -o 'part-{}.pot' - < big.pot
package main

// usageText is the synopsis shown by --help.
const usageText = `potsplit (-n SHARDS | --records N | --size BYTES) -o PATTERN [--sign KEY] [FILE|-]`

// description is the body of --help: what the tool is for and how to use it.
const description = `potsplit reads one pot stream (a challenge set or a model's outputs) and
writes it as shards, each a complete stream of its own, so that the work
fans out over GNU parallel, a Slurm array or a Kubernetes Job. Joining the
shards with cat gives back every record of the input (in another order
with -n): streams concatenate like gzip members.

How records are assigned (exactly one of):
  -n SHARDS        shard = FNV-1a 64 hash of the challenge id, modulo SHARDS
                   (of the decimal challenge index when the id is empty), so all
                   samples of a challenge land in the same shard and a given
                   id always goes to the same shard. Every shard file is
                   written, even an empty one.
  --records N      consecutive shards of N records each.
  --size BYTES     consecutive shards of about BYTES compressed bytes each
                   (a new shard starts once the current one has passed BYTES);
                   suffixes k, M and G multiply by 1024, 1024^2 and 1024^3.

-o PATTERN names the shards: {} is replaced by the shard index (0, 1, ...).
Each shard's header is the input segment's header with its shard field set
(index, count, and by = "challenge", "records" or "size"; the count is 0
when it is not known in advance). An input of several segments keeps each
segment's header with its records, so a shard may hold several segments.
Segments that do not belong together (another challenge set, model or
sampling) are damaged input, as potstat --verify says, unless --mixed passes
them on.

The shards appear all together or not at all: they are written to hidden
files in the target folder and renamed into place only when the whole input
was read intact. On damaged input, a failed write or an interrupt, no shard
file and no temporary file is left behind, and the error (file, record,
byte offset) is one line on stderr.

--sign KEY signs every segment of every shard with the private key KEY
(potgen signkey). The input's own signatures are checked as it is read (one
that fails is damaged input) but cannot be carried over, since the shards
cut its segments: without --sign, a signed input gives unsigned shards, and
potsplit says so on stderr.

Memory does not grow with the stream: it is about 1 MiB per shard being
written (all SHARDS with -n, one with --records and --size).

Exit status: 0 done, 1 a write failed, 2 bad usage or damaged input.

Examples:
  potgen challenges --key audit.key -n 100 -o ch.pot
  potsplit -n 8 -o 'ch-{}.pot' ch.pot
  parallel potgen --model synth:1 --challenges ch-{}.pot -o out-{}.pot ::: 0 1 2 3 4 5 6 7
  cat out-*.pot | potstat -
  cat out-*.pot > out.pot
  potsplit --records 30 -o 'part-{}.pot' - < out.pot
  potsplit --size 4k -o 'piece-{}.pot' out.pot`
