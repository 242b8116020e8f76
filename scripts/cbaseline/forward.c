/*
 * A plain C forward pass of a llama2.c checkpoint, written for pot as a
 * speed baseline for its Go engine: the same arithmetic (RMSNorm, rotary
 * embeddings, grouped-query attention, SwiGLU, KV cache), float32, one
 * thread, greedy decoding from BOS. It prints tokens/s and the first ids so
 * the two engines can be checked to agree. With a third argument "bos" it
 * stops, as llama2.c's run.c does, when the next token is BOS (1): on
 * stories260K that is after 346 steps, so run.c's "512 steps" do about
 * half the attention work of 512. Build: cc -O3 -o forward forward.c -lm
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct { int dim, hidden, layers, heads, kv_heads, vocab, seq; } Config;

static float *take(float **p, size_t n) { float *r = *p; *p += n; return r; }

static void rmsnorm(float *o, const float *x, const float *w, int n) {
    float ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    ss = 1.0f / sqrtf(ss / n + 1e-5f);
    for (int i = 0; i < n; i++) o[i] = w[i] * (ss * x[i]);
}

/* o[d] = W[d][n] . x[n] */
static void matmul(float *o, const float *x, const float *w, int n, int d) {
    for (int i = 0; i < d; i++) {
        const float *row = w + (size_t)i * n;
        float v = 0;
        for (int j = 0; j < n; j++) v += row[j] * x[j];
        o[i] = v;
    }
}

static void softmax(float *x, int n) {
    float m = x[0];
    for (int i = 1; i < n; i++) if (x[i] > m) m = x[i];
    float s = 0;
    for (int i = 0; i < n; i++) { x[i] = expf(x[i] - m); s += x[i]; }
    for (int i = 0; i < n; i++) x[i] /= s;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: forward CHECKPOINT [STEPS [bos]]\n"); return 2; }
    int steps = argc > 2 ? atoi(argv[2]) : 256;
    int stop_at_bos = argc > 3 && strcmp(argv[3], "bos") == 0;
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 2; }
    Config c;
    if (fread(&c, sizeof c, 1, f) != 1) { fprintf(stderr, "short header\n"); return 2; }
    int shared = c.vocab > 0;
    if (c.vocab < 0) c.vocab = -c.vocab;
    fseek(f, 0, SEEK_END);
    long size = ftell(f) - (long)sizeof c;
    fseek(f, sizeof c, SEEK_SET);
    float *data = malloc(size);
    if (fread(data, 1, size, f) != (size_t)size) { fprintf(stderr, "short file\n"); return 2; }
    fclose(f);
    if (steps > c.seq) steps = c.seq;

    int hs = c.dim / c.heads, kvdim = c.kv_heads * hs, L = c.layers;
    float *p = data;
    float *emb = take(&p, (size_t)c.vocab * c.dim);
    float *rms_att = take(&p, (size_t)L * c.dim);
    float *wq = take(&p, (size_t)L * c.dim * c.dim);
    float *wk = take(&p, (size_t)L * c.dim * kvdim);
    float *wv = take(&p, (size_t)L * c.dim * kvdim);
    float *wo = take(&p, (size_t)L * c.dim * c.dim);
    float *rms_ffn = take(&p, (size_t)L * c.dim);
    float *w1 = take(&p, (size_t)L * c.dim * c.hidden);
    float *w2 = take(&p, (size_t)L * c.hidden * c.dim);
    float *w3 = take(&p, (size_t)L * c.dim * c.hidden);
    float *rms_final = take(&p, c.dim);
    take(&p, (size_t)c.seq * hs); /* the legacy rope tables, unused */
    float *wcls = shared ? emb : p;

    float *x = calloc(c.dim, 4), *xb = calloc(c.dim, 4), *xb2 = calloc(c.dim, 4);
    float *hb = calloc(c.hidden, 4), *hb2 = calloc(c.hidden, 4), *q = calloc(c.dim, 4);
    float *att = calloc((size_t)c.heads * c.seq, 4), *logits = calloc(c.vocab, 4);
    float *kc = calloc((size_t)L * c.seq * kvdim, 4), *vc = calloc((size_t)L * c.seq * kvdim, 4);
    int group = c.heads / c.kv_heads, tok = 1, first[8];

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int pos = 0; pos < steps; pos++) {
        memcpy(x, emb + (size_t)tok * c.dim, c.dim * 4);
        for (int l = 0; l < L; l++) {
            rmsnorm(xb, x, rms_att + (size_t)l * c.dim, c.dim);
            float *k = kc + ((size_t)l * c.seq + pos) * kvdim, *v = vc + ((size_t)l * c.seq + pos) * kvdim;
            matmul(q, xb, wq + (size_t)l * c.dim * c.dim, c.dim, c.dim);
            matmul(k, xb, wk + (size_t)l * c.dim * kvdim, c.dim, kvdim);
            matmul(v, xb, wv + (size_t)l * c.dim * kvdim, c.dim, kvdim);
            for (int i = 0; i < c.dim; i += 2) {
                float fr = 1.0f / powf(10000.0f, (float)(i % hs) / hs), a = pos * fr;
                float cr = cosf(a), ci = sinf(a);
                for (int w = 0; w < (i < kvdim ? 2 : 1); w++) {
                    float *vec = w == 0 ? q : k;
                    float v0 = vec[i], v1 = vec[i + 1];
                    vec[i] = v0 * cr - v1 * ci;
                    vec[i + 1] = v0 * ci + v1 * cr;
                }
            }
            for (int h = 0; h < c.heads; h++) {
                float *qh = q + h * hs, *ah = att + (size_t)h * c.seq;
                for (int t = 0; t <= pos; t++) {
                    float *kt = kc + ((size_t)l * c.seq + t) * kvdim + (h / group) * hs, s = 0;
                    for (int i = 0; i < hs; i++) s += qh[i] * kt[i];
                    ah[t] = s / sqrtf(hs);
                }
                softmax(ah, pos + 1);
                float *o = xb + h * hs;
                memset(o, 0, hs * 4);
                for (int t = 0; t <= pos; t++) {
                    float *vt = vc + ((size_t)l * c.seq + t) * kvdim + (h / group) * hs;
                    for (int i = 0; i < hs; i++) o[i] += ah[t] * vt[i];
                }
            }
            matmul(xb2, xb, wo + (size_t)l * c.dim * c.dim, c.dim, c.dim);
            for (int i = 0; i < c.dim; i++) x[i] += xb2[i];
            rmsnorm(xb, x, rms_ffn + (size_t)l * c.dim, c.dim);
            matmul(hb, xb, w1 + (size_t)l * c.dim * c.hidden, c.dim, c.hidden);
            matmul(hb2, xb, w3 + (size_t)l * c.dim * c.hidden, c.dim, c.hidden);
            for (int i = 0; i < c.hidden; i++) { float g = hb[i]; hb[i] = g / (1.0f + expf(-g)) * hb2[i]; }
            matmul(xb, hb, w2 + (size_t)l * c.hidden * c.dim, c.hidden, c.dim);
            for (int i = 0; i < c.dim; i++) x[i] += xb[i];
        }
        rmsnorm(x, x, rms_final, c.dim);
        matmul(logits, x, wcls, c.dim, c.vocab);
        int best = 0;
        for (int i = 1; i < c.vocab; i++) if (logits[i] > logits[best]) best = i;
        if (pos < 8) first[pos] = best;
        tok = best;
        if (stop_at_bos && best == 1) { steps = pos + 1; break; }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%d steps in %.4f s: %.0f tokens/s; first ids:", steps, s, steps / s);
    for (int i = 0; i < 8 && i < steps; i++) printf(" %d", first[i]);
    printf("\n");
    return 0;
}
