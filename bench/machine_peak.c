/*===- machine_peak.c - This machine's FP32 FMA peak and memory bandwidth ----===*
 *
 * What the bench compares GEMM-heavy and memory-bound results with:
 *   - FMA peak per core: 12 independent chains of vector FMAs (enough to
 *     cover the FMA latency on every x86-64 and AArch64 core glmc targets),
 *     with the widest vectors the CPU has (AVX-512, AVX2+FMA, NEON);
 *   - read bandwidth: a 512 MiB buffer summed with vector loads, by one
 *     thread and by one thread per CPU.
 * Prints one JSON object. Best of several repetitions each.
 *===----------------------------------------------------------------------===*/
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define CHAINS 12
#define FMA_ITERS 20000000L

/* The register class of a vector operand in inline asm. */
#if defined(__x86_64__)
#define VREG "x"
#else
#define VREG "w"
#endif

/* One FMA loop per vector width; LANES floats per vector. The asm
 * barrier keeps the compiler from folding the chains. */
#define FMA_KERNEL(NAME, ATTR, LANES)                                          \
  ATTR static double NAME(void) {                                              \
    typedef float v __attribute__((vector_size(LANES * 4)));                   \
    v acc[CHAINS];                                                             \
    v a, b;                                                                    \
    for (int l = 0; l < LANES; ++l) {                                          \
      a[l] = 0.999999f;                                                        \
      b[l] = 1e-7f;                                                            \
    }                                                                          \
    for (int c = 0; c < CHAINS; ++c) acc[c] = a * (float)c;                    \
    __asm__ volatile("" : "+" VREG(a), "+" VREG(b));                           \
    double t0 = now_s();                                                       \
    for (long i = 0; i < FMA_ITERS; ++i)                                       \
      for (int c = 0; c < CHAINS; ++c) acc[c] = acc[c] * a + b;                \
    double t = now_s() - t0;                                                   \
    float sink = 0;                                                            \
    for (int c = 0; c < CHAINS; ++c) sink += acc[c][0];                        \
    __asm__ volatile("" ::VREG(sink));                                         \
    return 2.0 * CHAINS * LANES * (double)FMA_ITERS / t / 1e9;                 \
  }

#if defined(__x86_64__)
FMA_KERNEL(fma_avx512, __attribute__((target("avx512f,fma"))), 16)
FMA_KERNEL(fma_avx2, __attribute__((target("avx2,fma"))), 8)
#elif defined(__aarch64__)
FMA_KERNEL(fma_neon, , 4)
#endif

#define BUFFER_BYTES ((size_t)512 << 20)

typedef struct {
  const float *data;
  size_t count;
  double seconds;
} read_job_t;

static void *read_range(void *arg) {
  read_job_t *job = (read_job_t *)arg;
  typedef float v __attribute__((vector_size(32)));
  const v *p = (const v *)job->data;
  size_t n = job->count / 8;
  v s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
  double t0 = now_s();
  for (size_t i = 0; i + 4 <= n; i += 4) {
    s0 += p[i];
    s1 += p[i + 1];
    s2 += p[i + 2];
    s3 += p[i + 3];
  }
  job->seconds = now_s() - t0;
  v s = s0 + s1 + s2 + s3;
  float sink = s[0];
  __asm__ volatile("" ::"r"(&sink) : "memory");
  return NULL;
}

/* GB/s reading the buffer with `threads` threads, each its own slice. */
static double read_bandwidth(const float *buffer, int threads) {
  read_job_t jobs[256];
  pthread_t ids[256];
  size_t per = BUFFER_BYTES / sizeof(float) / (size_t)threads / 32 * 32;
  double t0 = now_s();
  for (int i = 0; i < threads; ++i) {
    jobs[i].data = buffer + (size_t)i * per;
    jobs[i].count = per;
    pthread_create(&ids[i], NULL, read_range, &jobs[i]);
  }
  for (int i = 0; i < threads; ++i) pthread_join(ids[i], NULL);
  double t = now_s() - t0;
  return (double)per * sizeof(float) * threads / t / 1e9;
}

int main(void) {
  const char *isa = "scalar";
  double fma = 0;
  for (int rep = 0; rep < 3; ++rep) {
    double g = 0;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) {
      g = fma_avx512();
      isa = "avx512";
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
      g = fma_avx2();
      isa = "avx2+fma";
    }
#elif defined(__aarch64__)
    g = fma_neon();
    isa = "neon";
#endif
    if (g > fma) fma = g;
  }

  cpu_set_t set;
  int cpus = 1;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cpus = CPU_COUNT(&set);
  if (cpus < 1) cpus = 1;
  if (cpus > 256) cpus = 256;
  float *buffer = NULL;
  if (posix_memalign((void **)&buffer, 64, BUFFER_BYTES) != 0) {
    fprintf(stderr, "machine_peak: cannot allocate %zu bytes\n", BUFFER_BYTES);
    return 1;
  }
  memset(buffer, 1, BUFFER_BYTES); /* fault every page in */
  double bw1 = 0, bwn = 0;
  for (int rep = 0; rep < 5; ++rep) {
    double b = read_bandwidth(buffer, 1);
    if (b > bw1) bw1 = b;
    b = read_bandwidth(buffer, cpus);
    if (b > bwn) bwn = b;
  }
  free(buffer);
  printf("{\"isa\": \"%s\", \"fma_gflops_per_core\": %.2f, \"read_gbs_1_thread\": %.2f, "
         "\"read_gbs_all_threads\": %.2f, \"cpus\": %d}\n",
         isa, fma, bw1, bwn, cpus);
  return 0;
}
