/* The Node-API face of the native kernels: typed arrays in (zero-copy), layouts as Float64Array metadata. */
#include "addon.h"

/* copy(out, x, meta): meta describes x only; out is contiguous. */
static napi_value js_copy(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  qkv_buf out, x;
  size_t ml;
  const double *m;
  qkv_iter it;
  if (argc < 3 || !get_buf(env, a[0], &out) || !get_buf(env, a[1], &x) || !(m = get_meta(env, a[2], &ml)) ||
      !parse_iter(m, ml, 1, 1, &it, NULL, NULL))
    FAIL("copy(out, x, meta): bad arguments");
  if (!iter_fits(&it, 0, out.len, 0, 0) || !iter_fits(&it, 1, x.len, 0, 0)) OUT_OF_BOUNDS("copy: the view reaches outside out or x");
  qkv_copy(&it, out, x);
  return undefined(env);
}

/* assign(dst, src, meta): meta describes dst then src (both strided); src is converted to dst's dtype. */
static napi_value js_assign(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  qkv_buf dst, src;
  size_t ml;
  const double *m;
  qkv_iter it;
  if (argc < 3 || !get_buf(env, a[0], &dst) || !get_buf(env, a[1], &src) || !(m = get_meta(env, a[2], &ml)) ||
      !parse_iter(m, ml, 2, 0, &it, NULL, NULL))
    FAIL("assign(dst, src, meta): bad arguments");
  if (!iter_fits(&it, 0, dst.len, 0, 0) || !iter_fits(&it, 1, src.len, 0, 0)) OUT_OF_BOUNDS("assign: a view reaches outside dst or src");
  qkv_copy(&it, dst, src);
  return undefined(env);
}

/* unary(op, out, x, meta) */
static napi_value js_unary(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int64_t op;
  qkv_buf out, x;
  size_t ml;
  const double *m;
  qkv_iter it;
  if (argc < 4 || !get_int(env, a[0], &op) || op < 0 || op >= QKV_NUNARY || !get_buf(env, a[1], &out) ||
      !get_buf(env, a[2], &x) || out.dt != x.dt || !(m = get_meta(env, a[3], &ml)) || !parse_iter(m, ml, 1, 1, &it, NULL, NULL))
    FAIL("unary(op, out, x, meta): bad arguments");
  if (!iter_fits(&it, 0, out.len, 0, 0) || !iter_fits(&it, 1, x.len, 0, 0)) OUT_OF_BOUNDS("unary: the view reaches outside out or x");
  qkv_unary((int)op, &it, out, x);
  return undefined(env);
}

/* binary(op, out, a, b, meta): meta describes a then b. */
static napi_value js_binary(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int64_t op;
  qkv_buf out, x, y;
  size_t ml;
  const double *m;
  qkv_iter it;
  if (argc < 5 || !get_int(env, a[0], &op) || op < 0 || op >= QKV_NBINARY || !get_buf(env, a[1], &out) ||
      !get_buf(env, a[2], &x) || !get_buf(env, a[3], &y) || x.dt != out.dt || y.dt != out.dt ||
      !(m = get_meta(env, a[4], &ml)) || !parse_iter(m, ml, 2, 1, &it, NULL, NULL))
    FAIL("binary(op, out, a, b, meta): bad arguments");
  if (!iter_fits(&it, 0, out.len, 0, 0) || !iter_fits(&it, 1, x.len, 0, 0) || !iter_fits(&it, 2, y.len, 0, 0))
    OUT_OF_BOUNDS("binary: a view reaches outside out, a or b");
  qkv_binary((int)op, &it, out, x, y);
  return undefined(env);
}

/* where(out, cond, a, b, meta): meta describes cond, a, b. */
static napi_value js_where(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  qkv_buf out, c, x, y;
  size_t ml;
  const double *m;
  qkv_iter it;
  if (argc < 5 || !get_buf(env, a[0], &out) || !get_buf(env, a[1], &c) || !get_buf(env, a[2], &x) ||
      !get_buf(env, a[3], &y) || x.dt != out.dt || y.dt != out.dt || !(m = get_meta(env, a[4], &ml)) ||
      !parse_iter(m, ml, 3, 1, &it, NULL, NULL))
    FAIL("where(out, cond, a, b, meta): bad arguments");
  if (!iter_fits(&it, 0, out.len, 0, 0) || !iter_fits(&it, 1, c.len, 0, 0) || !iter_fits(&it, 2, x.len, 0, 0) ||
      !iter_fits(&it, 3, y.len, 0, 0))
    OUT_OF_BOUNDS("where: a view reaches outside out, cond, a or b");
  qkv_where(&it, out, c, x, y);
  return undefined(env);
}

/* reduce(op, out, x, meta, axis): meta describes x; out is x's shape with `axis` of size 1, contiguous. */
static napi_value js_reduce(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int64_t op, axis;
  qkv_buf out, x;
  size_t ml;
  const double *m;
  if (argc < 5 || !get_int(env, a[0], &op) || op < 0 || op >= QKV_NREDUCE || !get_buf(env, a[1], &out) ||
      !get_buf(env, a[2], &x) || !(m = get_meta(env, a[3], &ml)) || !get_int(env, a[4], &axis))
    FAIL("reduce(op, out, x, meta, axis): bad arguments");
  int nd = ml >= 1 ? (int)m[0] : -1;
  if (nd < 1 || nd > QKV_MAXDIM || ml != (size_t)(2 + 2 * nd) || axis < 0 || axis >= nd) FAIL("reduce: bad metadata");
  /* Walk every axis but `axis`: out contiguous over them, x with its own strides. */
  int64_t shape[QKV_MAXDIM], offsets[2] = {0, (int64_t)m[1 + nd]}, strides[2][QKV_MAXDIM];
  int od = 0;
  for (int d = 0; d < nd; d++) {
    if (d == axis) continue;
    shape[od] = (int64_t)m[1 + d];
    strides[1][od] = (int64_t)m[2 + nd + d];
    od++;
  }
  int64_t s = 1;
  for (int d = od - 1; d >= 0; d--) { strides[0][d] = s; s *= shape[d]; }
  qkv_iter it;
  qkv_iter_init(&it, od, shape, 2, offsets, (const int64_t(*)[QKV_MAXDIM])strides);
  int64_t alen = (int64_t)m[1 + axis], astride = (int64_t)m[2 + nd + axis], aspan = alen > 0 ? (alen - 1) * astride : 0;
  if ((alen > 0 && qkv_iter_numel(&it) > 0 && !iter_fits(&it, 1, x.len, aspan < 0 ? aspan : 0, aspan > 0 ? aspan : 0)) ||
      !iter_fits(&it, 0, out.len, 0, 0))
    OUT_OF_BOUNDS("reduce: the view reaches outside out or x");
  qkv_reduce((int)op, &it, (int64_t)m[1 + axis], (int64_t)m[2 + nd + axis], out, x);
  return undefined(env);
}

/* matmul(out, a, b, meta): meta = [N, M, K, P, offA, sa0, sa1, sa2, offB, sb0, sb1, sb2]. */
static napi_value js_matmul(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  qkv_buf out, x, y;
  size_t ml;
  const double *m;
  if (argc < 4 || !get_buf(env, a[0], &out) || !get_buf(env, a[1], &x) || !get_buf(env, a[2], &y) ||
      x.dt != out.dt || y.dt != out.dt || !(m = get_meta(env, a[3], &ml)) || ml != 12)
    FAIL("matmul(out, a, b, meta): bad arguments");
  int64_t sa[4], sb[4];
  for (int i = 0; i < 4; i++) { sa[i] = (int64_t)m[4 + i]; sb[i] = (int64_t)m[8 + i]; }
  int64_t N = (int64_t)m[0], M = (int64_t)m[1], K = (int64_t)m[2], P = (int64_t)m[3];
  if (N < 0 || M < 0 || K < 0 || P < 0 || N * M * P > out.len) OUT_OF_BOUNDS("matmul: out is smaller than [N, M, P]");
  if (!dims_fit(sa[0], 3, (const int64_t[3]){N, M, K}, sa + 1, x.len) || !dims_fit(sb[0], 3, (const int64_t[3]){N, K, P}, sb + 1, y.len))
    OUT_OF_BOUNDS("matmul: a or b reaches outside its array");
  qkv_matmul((int64_t)m[0], (int64_t)m[1], (int64_t)m[3], (int64_t)m[2], out, x, sa, y, sb);
  return undefined(env);
}

/* indexSelect(out, table, ids, meta): meta = [R, C, off, rowStride, colStride, idsOff, idsStride, n];
 * returns -1 or the position of the first id out of range. */
static napi_value js_index_select(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  qkv_buf out, t, ids;
  size_t ml;
  const double *m;
  if (argc < 4 || !get_buf(env, a[0], &out) || !get_buf(env, a[1], &t) || !get_buf(env, a[2], &ids) ||
      ids.dt != QKV_I32 || out.dt != t.dt || !(m = get_meta(env, a[3], &ml)) || ml != 8)
    FAIL("indexSelect(out, table, ids, meta): bad arguments");
  int64_t st[3] = {(int64_t)m[2], (int64_t)m[3], (int64_t)m[4]};
  int64_t R = (int64_t)m[0], C = (int64_t)m[1], n = (int64_t)m[7];
  if (R < 0 || C < 0 || n < 0 || n * C > out.len || !block_fits(st[0], R, st[1], C, st[2], t.len) ||
      !block_fits((int64_t)m[5], n, (int64_t)m[6], 1, 1, ids.len))
    OUT_OF_BOUNDS("indexSelect: out, table or ids is smaller than meta gives");
  return number(env, (double)qkv_index_select(out, t, (int64_t)m[0], (int64_t)m[1], st, ids, (int64_t)m[5], (int64_t)m[6], (int64_t)m[7]));
}

/* indexAdd(out, src, ids, meta): meta = [rows, C, off, rowStride, colStride, idsOff, idsStride, n]. */
static napi_value js_index_add(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  qkv_buf out, src, ids;
  size_t ml;
  const double *m;
  if (argc < 4 || !get_buf(env, a[0], &out) || !get_buf(env, a[1], &src) || !get_buf(env, a[2], &ids) ||
      ids.dt != QKV_I32 || out.dt != src.dt || !(m = get_meta(env, a[3], &ml)) || ml != 8)
    FAIL("indexAdd(out, src, ids, meta): bad arguments");
  int64_t st[3] = {(int64_t)m[2], (int64_t)m[3], (int64_t)m[4]};
  int64_t rows = (int64_t)m[0], C = (int64_t)m[1], n = (int64_t)m[7];
  if (rows < 0 || C < 0 || n < 0 || rows * C > out.len || !block_fits(st[0], n, st[1], C, st[2], src.len) ||
      !block_fits((int64_t)m[5], n, (int64_t)m[6], 1, 1, ids.len))
    OUT_OF_BOUNDS("indexAdd: out, src or ids is smaller than meta gives");
  return number(env, (double)qkv_index_add(out, (int64_t)m[0], (int64_t)m[1], src, st, ids, (int64_t)m[5], (int64_t)m[6], (int64_t)m[7]));
}

/* A float32 matrix operand: rows×cols values at m = [offset, row stride, column stride] inside a Float32Array
 * (every element checked to lie inside it), or, when `optional`, null/undefined (out->p = NULL). */
static int get_fmat(napi_env env, napi_value v, const double *m, int64_t rows, int64_t cols, int optional, qkv_fmat *out) {
  qkv_buf b;
  int got = get_f32_or_null(env, v, &b);
  if (got == 2) { out->p = NULL; return optional; }
  if (!got || rows < 0 || cols < 0) return 0;
  int64_t off = (int64_t)m[0], rs = (int64_t)m[1], cs = (int64_t)m[2], lo = off, hi = off;
  if (rows > 0 && cols > 0) {
    lo += (rs < 0 ? rs * (rows - 1) : 0) + (cs < 0 ? cs * (cols - 1) : 0);
    hi += (rs > 0 ? rs * (rows - 1) : 0) + (cs > 0 ? cs * (cols - 1) : 0);
    if (lo < 0 || hi >= b.len) return 0;
  }
  *out = (qkv_fmat){(const float *)b.p + off, rs, cs};
  return 1;
}

/* linear(y, x, w, bias|null, meta [M, N, K, x: offset, row and column strides, w: the same, bias offset, relu]):
 * y [M, N] = x [M, K] · wᵀ + bias (then ReLU), w [N, K]; bias N contiguous values (gemm-linear.c). */
static napi_value js_linear(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  size_t ml;
  const double *m;
  if (argc < 5 || !(m = get_meta(env, a[4], &ml)) || ml != 11) FAIL("linear(y, x, w, bias, meta): bad arguments");
  int64_t M = (int64_t)m[0], N = (int64_t)m[1], K = (int64_t)m[2];
  const double bias_meta[3] = {m[9], 0, 1};
  qkv_fmat y, x, w, b;
  if (!get_fmat(env, a[0], (const double[3]){0, N, 1}, M, N, 0, &y) || !get_fmat(env, a[1], m + 3, M, K, 0, &x) ||
      !get_fmat(env, a[2], m + 6, N, K, 0, &w) || !get_fmat(env, a[3], bias_meta, 1, N, 1, &b))
    FAIL("linear(y, x, w, bias, meta): y, x, w or bias is not a Float32Array of the size and strides meta gives");
  qkv_linear_forward(M, N, K, x, w, b.p, m[10] != 0, (float *)y.p);
  return undefined(env);
}

/* linearBackward(dx|null, dw|null, db|null, g, x, w, y|null, gmask|null, meta [M, N, K, then offset, row and column
 * strides of x, w and g]): dx [M, K], dw [N, K], db [N] of linear given g [M, N]; after a ReLU, y [M, N] is the
 * forward's output and gmask [M, N] scratch. */
static napi_value js_linear_backward(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value a[9];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  size_t ml;
  const double *m;
  if (argc < 9 || !(m = get_meta(env, a[8], &ml)) || ml != 12) FAIL("linearBackward(dx, dw, db, g, x, w, y, gmask, meta): bad arguments");
  int64_t M = (int64_t)m[0], N = (int64_t)m[1], K = (int64_t)m[2];
  qkv_fmat dx, dw, db, g, x, w, y, gm;
  if (!get_fmat(env, a[0], (const double[3]){0, K, 1}, M, K, 1, &dx) || !get_fmat(env, a[1], (const double[3]){0, K, 1}, N, K, 1, &dw) ||
      !get_fmat(env, a[2], (const double[3]){0, N, 1}, 1, N, 1, &db) || !get_fmat(env, a[3], m + 9, M, N, 0, &g) ||
      !get_fmat(env, a[4], m + 3, M, K, 0, &x) || !get_fmat(env, a[5], m + 6, N, K, 0, &w) ||
      !get_fmat(env, a[6], (const double[3]){0, N, 1}, M, N, 1, &y) || !get_fmat(env, a[7], (const double[3]){0, N, 1}, M, N, 1, &gm) ||
      (y.p && !gm.p))
    FAIL("linearBackward(dx, dw, db, g, x, w, y, gmask, meta): an array is not a Float32Array of the size and strides meta gives");
  qkv_linear_backward(M, N, K, x, w, g, y.p, (float *)gm.p, (float *)dx.p, (float *)dw.p, (float *)db.p);
  return undefined(env);
}

/* setThreads(n): n <= 0 means all cores. Returns the count now in use. */
static napi_value js_set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  int64_t n;
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  if (argc < 1 || !get_int(env, a[0], &n)) FAIL("setThreads(n): n must be a number");
  if (n < 0 || n > QKV_MAX_THREADS) OUT_OF_BOUNDS("setThreads(n): n must be in [0, 256] (0: all cores)");
  qkv_pool_set_threads((int)n);
  return number(env, qkv_pool_threads());
}

static napi_value js_threads(napi_env env, napi_callback_info info) {
  (void)info;
  return number(env, qkv_pool_threads());
}

/* gemmKernel(name?): chooses the sgemm micro-kernel when given a name; returns the one in use, or null if
 * the name is unknown or this CPU cannot run it. */
static napi_value js_gemm_kernel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1], r;
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  if (argc >= 1) {
    char name[64];
    size_t len;
    if (napi_get_value_string_utf8(env, a[0], name, sizeof name, &len) != napi_ok) FAIL("gemmKernel(name): name must be a string");
    if (!qkv_sgemm_use(name)) { napi_get_null(env, &r); return r; }
  }
  CHECK(napi_create_string_utf8(env, qkv_sgemm_current()->name, NAPI_AUTO_LENGTH, &r));
  return r;
}

/* gemmKernels(): names of every sgemm micro-kernel compiled in, whether or not this CPU runs them. */
static napi_value js_gemm_kernels(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value arr, s;
  CHECK(napi_create_array(env, &arr));
  const qkv_sgemm_kernel *const *all = qkv_sgemm_all();
  for (uint32_t i = 0; all[i]; i++) {
    CHECK(napi_create_string_utf8(env, all[i]->name, NAPI_AUTO_LENGTH, &s));
    CHECK(napi_set_element(env, arr, i, s));
  }
  return arr;
}

/* sgemmNaive(out, a, b, meta): the version-0 oracle, same arguments as matmul (float32 only). */
static napi_value js_sgemm_naive(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  qkv_buf out, x, y;
  size_t ml;
  const double *m;
  if (argc < 4 || !get_buf(env, a[0], &out) || !get_buf(env, a[1], &x) || !get_buf(env, a[2], &y) ||
      out.dt != QKV_F32 || x.dt != QKV_F32 || y.dt != QKV_F32 || !(m = get_meta(env, a[3], &ml)) || ml != 12)
    FAIL("sgemmNaive(out, a, b, meta): bad arguments");
  qkv_fmat A = {(const float *)x.p + (int64_t)m[4], (int64_t)m[6], (int64_t)m[7]};
  qkv_fmat B = {(const float *)y.p + (int64_t)m[8], (int64_t)m[10], (int64_t)m[11]};
  qkv_sgemm_naive((int64_t)m[0], (int64_t)m[1], (int64_t)m[3], (int64_t)m[2], A, (int64_t)m[5], B, (int64_t)m[9], out.p);
  return undefined(env);
}

NAPI_MODULE_INIT() {
  static const qkv_binding fns[] = {
      {"copy", js_copy}, {"assign", js_assign}, {"unary", js_unary}, {"binary", js_binary},
      {"where", js_where}, {"reduce", js_reduce}, {"matmul", js_matmul}, {"indexSelect", js_index_select},
      {"indexAdd", js_index_add}, {"setThreads", js_set_threads}, {"threads", js_threads},
      {"gemmKernel", js_gemm_kernel}, {"gemmKernels", js_gemm_kernels}, {"sgemmNaive", js_sgemm_naive},
      {"linear", js_linear}, {"linearBackward", js_linear_backward},
  };
  const size_t n = sizeof fns / sizeof fns[0];
  for (size_t i = 0; i < n + qkv_fused_binding_count; i++) {
    const qkv_binding *b = i < n ? &fns[i] : &qkv_fused_bindings[i - n];
    napi_value f;
    if (napi_create_function(env, b->name, NAPI_AUTO_LENGTH, b->fn, NULL, &f) != napi_ok ||
        napi_set_named_property(env, exports, b->name, f) != napi_ok)
      return NULL;
  }
  return exports;
}
