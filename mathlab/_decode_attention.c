/* Decode attention for the fast sampler (mathlab/engine.py), fp32.

   One query token per sequence attends to the K/V cache of its own slot:
     q     [n, kv_heads, group, head_dim]          contiguous
     k, v  [slots, kv_heads, capacity, head_dim]   the cache of one layer, contiguous
     slots [n]                                     the cache slot of sequence i
     lens  [n]                                     positions 0..lens[i]-1 of its slot are valid
     out   [n, kv_heads, group, head_dim]
   Work items are (sequence, kv head) pairs, [begin, end) of them per call, so two threads
   can split a layer. Each pair reads its K and V rows once for all `group` query heads
   (grouped-query attention), which is what makes this faster than batched matmuls: the
   work is memory-bound and the cache is read once, at full bandwidth.

   No -ffast-math (it would switch the whole process to flush-to-zero): exp is a small
   polynomial (relative error ~2e-7) that the compiler vectorizes, reductions vectorize
   under -fassociative-math; scratch holds group x L floats and L ints. Built and loaded by
   mathlab.engine_kernels (with -fno-strict-aliasing: the exponent bits are read as floats). */

#include <stdint.h>
#include <string.h>

#define LOG2E 1.4426950408889634f

/* The polynomial part of e^x = 2^(x log2 e) = 2^i * 2^f, f in [0, 1): 2^f (minimax, degree 6);
   the power of two 2^i goes into `bits` as a float's exponent field. Branch-free, so the
   loop that calls it vectorizes. x <= 0 (scores minus their maximum). */
static inline float exp2_fraction(float x, int32_t *bits) {
    x = x > -87.0f ? x : -87.0f;
    float t = x * LOG2E;
    float fi = __builtin_floorf(t);
    float f = t - fi;
    float p = 1.5353362e-4f;
    p = p * f + 1.3398874e-3f;
    p = p * f + 9.6184373e-3f;
    p = p * f + 5.5503325e-2f;
    p = p * f + 2.4022648e-1f;
    p = p * f + 6.9314720e-1f;
    p = p * f + 1.0f;
    *bits = ((int32_t)fi + 127) << 23;
    return p;
}

void mathlab_decode_attention(const float *q, const float *k, const float *v,
                              const int64_t *slots, const int64_t *lens, float *out,
                              int64_t kv_heads,
                              int64_t group, int64_t head_dim, int64_t capacity, float scale,
                              int64_t begin, int64_t end, float *scratch) {
    const int64_t slot_stride = kv_heads * capacity * head_dim;
    for (int64_t w = begin; w < end; ++w) {
        const int64_t i = w / kv_heads, h = w % kv_heads;
        const int64_t L = lens[i];
        const float *K = k + slots[i] * slot_stride + h * capacity * head_dim;
        const float *V = v + slots[i] * slot_stride + h * capacity * head_dim;
        const float *Q = q + w * group * head_dim;
        float *O = out + w * group * head_dim;
        float *S = scratch;                          /* [group, L] scores, then weights */
        int32_t *E = (int32_t *)(scratch + group * L); /* [L] exponent bits */
        float mx[64], inv[64];
        for (int64_t a = 0; a < group; ++a) mx[a] = -3.0e38f;
        for (int64_t t = 0; t < L; ++t) {
            const float *kr = K + t * head_dim;
            for (int64_t a = 0; a < group; ++a) {
                const float *qa = Q + a * head_dim;
                float acc = 0.0f;
                for (int64_t d = 0; d < head_dim; ++d) acc += qa[d] * kr[d];
                acc *= scale;
                S[a * L + t] = acc;
                mx[a] = acc > mx[a] ? acc : mx[a];
            }
        }
        for (int64_t a = 0; a < group; ++a) {
            float *sa = S + a * L;
            const float m = mx[a];
            for (int64_t t = 0; t < L; ++t) sa[t] = exp2_fraction(sa[t] - m, E + t);
            const float *scale2 = (const float *)E;
            float sum = 0.0f;
            for (int64_t t = 0; t < L; ++t) {
                sa[t] *= scale2[t];
                sum += sa[t];
            }
            inv[a] = 1.0f / sum;
            memset(O + a * head_dim, 0, sizeof(float) * head_dim);
        }
        for (int64_t t = 0; t < L; ++t) {
            const float *vr = V + t * head_dim;
            for (int64_t a = 0; a < group; ++a) {
                const float p = S[a * L + t];
                float *oa = O + a * head_dim;
                for (int64_t d = 0; d < head_dim; ++d) oa[d] += p * vr[d];
            }
        }
        for (int64_t a = 0; a < group; ++a) {
            float *oa = O + a * head_dim;
            for (int64_t d = 0; d < head_dim; ++d) oa[d] *= inv[a];
        }
    }
}
