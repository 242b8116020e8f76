package main

// usage is the help text; %[1]d is generate.Slack and %[2]d compare.ReadAhead.
const usage = `potgen asks a model for seeded outputs on a secret, pre-committed challenge
set and writes them as a pot stream (zstd-compressed msgpack) on stdout or to -o FILE.

The challenges come from a key (--key FILE -n N, derived on the fly: the same key,
run id and N always give the same challenges) or from a challenge stream
(--challenges FILE|-, made by 'potgen challenges' or split by potsplit).

Models (--model SPEC):
   synth:SEED                         built-in synthetic Llama-shaped model (no files needed)
   llama2c:PATH[,tokenizer=PATH]      llama2.c checkpoint and its tokenizer.bin
   gguf:PATH                          GGUF file with F32 or F16 tensors
   openai:URL[,model=NAME][,api=completions|chat|native]
                                      any OpenAI-compatible server (llama-server, vLLM,
                                      Ollama, TGI); the API key comes from $OPENAI_API_KEY,
                                      --api-key-env NAME or --api-key-file FILE
   exec:COMMAND                       runs COMMAND per prompt (prompt on stdin; text or a
                                      JSON object on stdout; POT_SEED etc. in its environment)
  A local model may add ,perturb=f16|int8|noise:SIGMA|prune:FRACTION, or
  ,perturb=q8_0|q4_0|q4_1|q5_0|q5_1|q6_k|iq4_nl|q4_k_m: the model quantized as
  llama-quantize would.

Records are written in (challenge, sample) order whatever finishes first. A query
that still fails after its retries is written as a record with its error, and the
exit status is 1; --resume retries those and the missing ones. With -o FILE the
stream is built in FILE.partial and renamed to FILE when complete; after an
interruption, run the same command with --resume to continue without redoing work
(every flag must be the same; -o FILE --resume with nothing to resume starts
FILE.partial). An existing FILE is never replaced unless --force says so.
When the reader of stdout goes away (potcmp has decided), potgen stops asking the
model and exits with status 0.

Early stop wastes a bounded number of queries. When stdout is a pipe, potgen
starts no query while -j plus %[1]d of the records it made wait unread (in the
pipe or in potgen), so that when its reader stops it has made at most -j + %[1]d
queries beyond the records the reader took, whatever the model's speed and the
machine's load. potcmp holds at most %[2]d records it took and did not use, plus
what one read of the pipe holds (at most -j + %[1]d), so 'potgen -j J | potcmp'
makes at most 2(J + %[1]d) + %[2]d queries that the verdict does not use; usually
about J.

--sign NAME signs every segment written (here, by potgen challenges, and by a
resumed run, whose kept records are signed again) with the private key NAME
from 'potgen signkey -o NAME'; potstat --verify --pubkey NAME.pub checks it.
A resumed run without --sign whose earlier output was signed says on stderr
that its output is unsigned.

Log-probabilities of local models are those of the raw softmax, before temperature
and truncation (as vLLM reports them); the header says so.

Examples:
   potgen keygen -o audit.key
   potgen --model llama2c:stories260K.bin,tokenizer=tok512.bin --key audit.key -n 200 -o ref.pot
   potgen --model openai:http://127.0.0.1:8080/v1 --key audit.key -n 200 | potcmp ref.pot -
   potgen challenges --key audit.key -n 200 | potsplit -n 8 -o 'ch-{}.pot'
   potgen --model gguf:model.gguf --challenges ch-3.pot -o out-3.pot
   potgen --model synth:1 --key audit.key -n 20 --temperature 1 --samples 4 -j 2 -o sampled.pot
   potgen signkey -o archive.sign
   potgen --model synth:1 --key audit.key -n 200 --sign archive.sign -o signed.pot

Exit status: 0 success (or the reader went away), 1 some queries failed or a
runtime failure, 2 bad usage or bad input.`

const keygenUsage = `writes a new secret key: 32 random bytes as 64 hex characters. Keep it secret
until the audit is over; publish its commitment (in every stream header) before.
With -o FILE the file gets mode 0600 and an existing file is never overwritten.

Examples:
   potgen keygen -o audit.key
   potgen keygen -o audit.key  # exit 2: an existing key is never overwritten`

const challengesUsage = `writes the challenge set of a key as a challenge stream (prompts and seeds, never
the key), for potsplit to shard or for potgen --challenges to read. The same key,
run id, family and -n always give the same stream.

Examples:
   potgen challenges --key audit.key -n 1000 -o ch.pot
   potgen challenges --key audit.key -n 1000 --run-id week2 | potsplit -n 4 -o 'week2-{}.pot'
   potgen challenges --key audit.key -n 100 | potstat -`

const verifyUsage = `checks, once the key is revealed, that the streams' challenge set is the one the
key commits to: the commitment, the set id, and every record's id, seed and prompt.
Prompt-file sets need --prompts FILE (its digest must match the header).
Exit status: 0 all match, 1 a mismatch, 2 bad input.

Examples:
   potgen challenges --key audit.key -n 100 -o ch.pot
   potgen verify --key audit.key ch.pot
   potsplit -n 4 -o 'ch-{}.pot' ch.pot && potgen verify ch-*.pot --key audit.key`
