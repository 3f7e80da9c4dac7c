// An attention view as plain data and as JSON (the float arrays as base64): what the viewer page reads, with no model code.

import { FormatError } from '../core/errors.js';
import type { AttentionMap } from './attentions.js';
import type { BeamTrace, NextTokenDistribution } from './trace.js';

/** The kinds of attention a view holds: an encoder-decoder's three, or a decoder-only model's one. */
export type AttentionKind = 'encoder' | 'decoder' | 'cross' | 'self';

/** One kind of attention, every layer: maps [1, H, T, S] whose T axis is `queries` and S axis `keys`. */
export interface AttentionGroup {
  kind: AttentionKind;
  /** 'Encoder self-attention', ... */
  title: string;
  queries: string[];
  keys: string[];
  layers: AttentionMap[];
}

/** What a viewer draws: the model's shape, the input and answer, and the attention of every layer and head. */
export interface AttentionView {
  format: typeof VIEW_FORMAT;
  /** Names the checkpoint. */
  source: string;
  /** The task the checkpoint records (g2p, translate, lm...), or null. */
  task: string | null;
  modelKind: 'transformer' | 'gpt';
  model: { heads: number; dModel: number; dK: number; encoderLayers: number; decoderLayers: number; layers: number };
  input: string;
  /** The answer (a continuation alone, for a decoder-only model). */
  output: string;
  /** The decoding options used, checkpoint defaults filled in. */
  options: Record<string, unknown>;
  groups: AttentionGroup[];
  /** Beam search step by step (numBeams > 1), else null. */
  beams: BeamTrace | null;
  /** The distribution each answer token was chosen from. */
  nextTokens: NextTokenDistribution[];
}

/** The `format` field of a view's JSON. */
export const VIEW_FORMAT = 'qkv-attention-view-1';

/** Where a viewer page holds its data: replaced by a JSON script element in a self-contained file. */
export const VIEW_DATA_MARKER = '<!--qkv-view-data-->';

function toBase64(a: Float32Array): string {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(s: string, where: string): Float32Array {
  let bin: string;
  try {
    bin = atob(s);
  } catch {
    throw new FormatError(`${where}: not base64`);
  }
  if (bin.length % 4 !== 0) throw new FormatError(`${where}: ${bin.length} bytes, expected a multiple of 4 (float32)`);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

/**
 * A view as JSON text: the float arrays as base64 of their little-endian float32 bytes (exact,
 * −Infinity scores included), safe to put inside a script element (no '<').
 *
 * @example
 * attentionViewFromJSON(attentionViewToJSON(view)).output === view.output; // true
 */
export function attentionViewToJSON(v: AttentionView): string {
  const groups = v.groups.map((g) => ({
    ...g, layers: g.layers.map((m) => ({ shape: m.shape, data: toBase64(m.data), ...(m.scores ? { scores: toBase64(m.scores) } : {}) })),
  }));
  return JSON.stringify({ ...v, groups }).replace(/</g, '\\u003c');
}

function field(o: Record<string, unknown>, key: string, where: string, type: 'string' | 'number' | 'object'): unknown {
  const x = o[key];
  if (typeof x !== type || x === null) throw new FormatError(`${where}.${key}: ${x === null ? 'null' : typeof x}, expected ${type === 'object' ? 'an object' : `a ${type}`}`);
  return x;
}

/**
 * Reads a view's JSON back, checking its format and that every map's shape fits its tokens and data.
 *
 * @example
 * const view = attentionViewFromJSON(document.getElementById('qkv-view-data')!.textContent!);
 */
export function attentionViewFromJSON(text: string, where = 'view'): AttentionView {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new FormatError(`${where}: not JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null) throw new FormatError(`${where}: ${typeof raw}, expected an object`);
  const v = raw as Record<string, unknown>;
  if (v.format !== VIEW_FORMAT) throw new FormatError(`${where}.format: ${JSON.stringify(v.format)}, expected "${VIEW_FORMAT}"`);
  field(v, 'input', where, 'string');
  field(v, 'output', where, 'string');
  const model = field(v, 'model', where, 'object') as Record<string, unknown>;
  const heads = field(model, 'heads', `${where}.model`, 'number') as number;
  if (!Array.isArray(v.groups)) throw new FormatError(`${where}.groups: expected an array`);
  const groups = v.groups.map((g: unknown, gi: number): AttentionGroup => {
    const gw = `${where}.groups[${gi}]`;
    if (typeof g !== 'object' || g === null) throw new FormatError(`${gw}: expected an object`);
    const r = g as Record<string, unknown>;
    if (!Array.isArray(r.queries) || !Array.isArray(r.keys) || !Array.isArray(r.layers)) throw new FormatError(`${gw}: expected arrays queries, keys and layers`);
    const T = r.queries.length;
    const S = r.keys.length;
    const layers = r.layers.map((m: unknown, li: number): AttentionMap => {
      const lw = `${gw}.layers[${li}]`;
      const mm = (m ?? {}) as Record<string, unknown>;
      const shape = mm.shape as number[];
      if (!Array.isArray(shape) || shape.join() !== [1, heads, T, S].join()) throw new FormatError(`${lw}.shape: ${JSON.stringify(shape)}, expected [1, ${heads}, ${T}, ${S}] (heads, queries, keys)`);
      const data = fromBase64(String(mm.data), `${lw}.data`);
      if (data.length !== heads * T * S) throw new FormatError(`${lw}.data: ${data.length} floats, expected ${heads * T * S}`);
      const out: AttentionMap = { shape: [1, heads, T, S], data };
      if (mm.scores !== undefined) {
        out.scores = fromBase64(String(mm.scores), `${lw}.scores`);
        if (out.scores.length !== data.length) throw new FormatError(`${lw}.scores: ${out.scores.length} floats, expected ${data.length}`);
      }
      return out;
    });
    return { kind: r.kind as AttentionKind, title: String(r.title), queries: r.queries.map(String), keys: r.keys.map(String), layers };
  });
  return { ...(v as unknown as AttentionView), groups };
}

/**
 * A self-contained HTML file: the viewer page's template (scripts and styles inlined, holding
 * {@link VIEW_DATA_MARKER}) with the view's JSON put in place of the marker.
 *
 * @example
 * writeFileSync('view.html', embedAttentionView(template, view));
 */
export function embedAttentionView(template: string, v: AttentionView): string {
  const at = template.indexOf(VIEW_DATA_MARKER);
  if (at < 0) throw new FormatError(`embedAttentionView: the template holds no ${VIEW_DATA_MARKER}, expected the viewer page (viewer.html)`);
  const data = `<script type="application/json" id="qkv-view-data">${attentionViewToJSON(v)}</script>`;
  return template.slice(0, at) + data + template.slice(at + VIEW_DATA_MARKER.length);
}
