// The wasm sgemm's FMA micro-kernel: a 4×8 tile of f32x4.relaxed_madd, assembled here for engines with relaxed SIMD.
//
// Debian's clang 14 knows relaxed SIMD only by its prototype opcodes, which today's engines refuse, so this one loop
// is written as bytes: a module of one function over qkv.wasm's memory, imported by it as env.qkv_fma_tile and used
// by native/wasm/gemm-wasm.c's "simd128-fma" kernel (the epilogue stays in C). Engines without relaxed SIMD (or
// that do not validate this module) get the SIMD128 mul + add kernel instead.

/** Unsigned LEB128 (also bench/wasm-peak.ts's assembler). */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** Signed LEB128 (i32.const's immediate). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) { out.push(b); return out; }
    out.push(b | 0x80);
  }
}

/** A module section: its id, its byte length, its body. */
export const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => { const b = [...new TextEncoder().encode(s)]; return [...uleb(b.length), ...b]; };

const SIMD = 0xfd;
/** The SIMD prefix and an opcode; local.get / local.set of a local. */
export const op = (code: number) => [SIMD, ...uleb(code)];
export const get = (l: number) => [0x20, ...uleb(l)];
export const set = (l: number) => [0x21, ...uleb(l)];
const MADD = op(0x105); // f32x4.relaxed_madd(a, b, c) = a·b + c, fused where the CPU has FMA

/**
 * The module: tile(kc, pa, pb, out) computes out[i·8 + j] = Σ_k pa[k·4 + i]·pb[k·8 + j] for i < 4, j < 8 (byte
 * addresses; pa and pb packed as gemm.h's micro-kernels read them), importing env.memory. `unroll` k per round: on V8 11
 * (Node 20, by CPU time, kc 256 in L1) 1 ran at 42 GFLOP/s, 2 and 4 at 21 and 25 (their registers spill).
 */
export function fmaTileModule(unroll = 1): Uint8Array<ArrayBuffer> {
  const [kc, pa, pb, out] = [0, 1, 2, 3];
  const acc = (i: number, v: number) => 4 + 2 * i + v; // 8 accumulators
  const [b0, b1, a] = [12, 13, 14];
  const load = (base: number, offset: number) => [...get(base), ...op(0x00), 0x00, ...uleb(offset)]; // v128.load
  const splat = (base: number, offset: number) => [...get(base), ...op(0x09), 0x00, ...uleb(offset)]; // v128.load32_splat
  const code: number[] = [];
  /** One k: a row of 8 from pb, 4 broadcasts from pa, 8 multiply-adds; at byte offsets from the pointers. */
  const step = (oa: number, ob: number) => {
    code.push(...load(pb, ob), ...set(b0), ...load(pb, ob + 16), ...set(b1));
    for (let i = 0; i < 4; i++) {
      code.push(...splat(pa, oa + 4 * i), ...set(a));
      code.push(...get(a), ...get(b0), ...get(acc(i, 0)), ...MADD, ...set(acc(i, 0)));
      code.push(...get(a), ...get(b1), ...get(acc(i, 1)), ...MADD, ...set(acc(i, 1)));
    }
  };
  const advance = (ks: number) => {
    code.push(...get(pa), 0x41, ...sleb(16 * ks), 0x6a, ...set(pa)); // pa += 16·ks bytes
    code.push(...get(pb), 0x41, ...sleb(32 * ks), 0x6a, ...set(pb)); // pb += 32·ks bytes
    code.push(...get(kc), 0x41, ...sleb(ks), 0x6b, ...set(kc)); // kc -= ks
  };
  for (let i = 0; i < 8; i++) code.push(...op(0x0c), ...new Array(16).fill(0), ...set(4 + i)); // v128.const 0
  // `unroll` k a round while kc ≥ unroll, then one a round.
  for (const u of unroll > 1 ? [unroll, 1] : [1]) {
    code.push(0x02, 0x40, 0x03, 0x40); // block, loop
    code.push(...get(kc), 0x41, ...sleb(u), 0x48, 0x0d, 0x01); // br_if out when kc < u
    for (let k = 0; k < u; k++) step(16 * k, 32 * k);
    advance(u);
    code.push(0x0c, 0x00, 0x0b, 0x0b); // br loop; end; end
  }
  for (let i = 0; i < 8; i++) code.push(...get(out), ...get(4 + i), ...op(0x0b), 0x00, ...uleb(16 * i)); // v128.store
  code.push(0x0b);
  const body = [0x01, 11, 0x7b, ...code]; // 11 v128 locals
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x00]), // (i32 i32 i32 i32) → ()
    ...section(2, [0x01, ...name('env'), ...name('memory'), 0x02, 0x01, 0x00, ...uleb(65536)]), // memory, max 4 GiB
    ...section(3, [0x01, 0x00]),
    ...section(7, [0x01, ...name('tile'), 0x00, 0x00]),
    ...section(10, [0x01, ...uleb(body.length), ...body]),
  ]);
}

/** Whether this engine has relaxed SIMD (it validates the FMA module). */
export function hasRelaxedSimd(): boolean {
  try {
    return WebAssembly.validate(fmaTileModule());
  } catch {
    return false;
  }
}
