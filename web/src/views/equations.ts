// The paper's attention equations, typeset with KaTeX (as MathML: no fonts to ship), with the selected head's numbers.

import katex from 'katex';
import type { HeadMatrix } from './heatmap.js';

/** What the equations show: where in the model, and which query row (and key) of the selected head. */
export interface EquationContext {
  group: string;
  layer: number;
  head: number;
  heads: number;
  dK: number;
  queries: readonly string[];
  keys: readonly string[];
  m: HeadMatrix;
  /** The query row shown. */
  t: number;
  /** The hovered key, if any. */
  s: number | null;
}

const tex = (src: string, display = true): string => katex.renderToString(src, { output: 'mathml', displayMode: display, throwOnError: false, strict: 'ignore' });

/** A token as TeX text (specials escaped). */
export function texText(s: string): string {
  const esc = s.replace(/[\\{}#$%&_^~]/g, (c) => ({ '\\': '\\textbackslash{}', '{': '\\{', '}': '\\}', '^': '\\textasciicircum{}', '~': '\\textasciitilde{}' } as Record<string, string>)[c] ?? `\\${c}`);
  return `\\text{${esc.length ? esc : '\\;'}}`;
}

/** A number for TeX: 3 significant digits, ×10^k past 1e4, −∞ for a masked score. */
export function texNumber(x: number): string {
  if (x === -Infinity) return '-\\infty';
  if (!Number.isFinite(x)) return '\\text{NaN}';
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e4 || a < 1e-3)) {
    const [m, e] = x.toExponential(2).split('e');
    return `${m}\\times10^{${Number(e)}}`;
  }
  return a >= 100 ? x.toFixed(1) : a >= 10 ? x.toFixed(2) : x.toFixed(3);
}

/** The keys shown in a row: the hovered one and the highest weights, at most `n`, in key order. */
function shownKeys(w: Float32Array, s: number | null, n: number): number[] {
  const order = Array.from(w.keys()).sort((a, b) => w[b] - w[a]).slice(0, n);
  if (s !== null && !order.includes(s)) order[order.length - 1] = s;
  return order.sort((a, b) => a - b);
}

/** The static equations (paper equation 1 and §3.2.2). */
export function seedEquations(): string {
  return [
    tex('\\operatorname{Attention}(Q,K,V)=\\operatorname{softmax}\\!\\left(\\frac{QK^{\\top}}{\\sqrt{d_k}}\\right)V'),
    tex('\\operatorname{MultiHead}(Q,K,V)=\\operatorname{Concat}(\\mathrm{head}_1,\\dots,\\mathrm{head}_h)\\,W^{O}'),
    tex('\\mathrm{head}_i=\\operatorname{Attention}(QW_i^{Q},KW_i^{K},VW_i^{V})'),
  ].join('');
}

/** The equations with the selected head's live numbers: its row of scores, their softmax, and the hovered cell. */
export function liveEquations(c: EquationContext): string {
  const { m, t } = c;
  const S = m.S;
  const w = m.weights.subarray(t * S, (t + 1) * S);
  const sc = m.scores ? m.scores.subarray(t * S, (t + 1) * S) : null;
  const keys = shownKeys(w, c.s, S <= 12 ? S : 8); // every key of a short row; else the largest and the hovered one
  const qt = `q_{${t + 1}}`;
  const parts: string[] = [];
  parts.push(tex(`\\text{${c.group}, layer ${c.layer + 1}, head } i=${c.head + 1}\\text{ of }h=${c.heads}`));
  parts.push(tex(`d_k=d_{\\text{model}}/h=${c.dK},\\quad \\text{query } ${qt}=${texText(c.queries[t])}`));
  // One row per key shown (the largest weights and the hovered key, in key order): its score and weight.
  const bold = (k: number, x: string) => (k === c.s ? `\\textcolor{#c0392b}{${x}}` : x);
  const head = `j & \\text{key } k_j${sc ? ` & ${qt}\\cdot k_j/\\sqrt{${c.dK}}` : ''} & \\alpha_{${t + 1}j}=\\operatorname{softmax}_j`;
  const body = keys.map((k) => `${bold(k, String(k + 1))} & ${texText(c.keys[k])}${sc ? ` & ${bold(k, texNumber(sc[k]))}` : ''} & ${bold(k, texNumber(w[k]))}`);
  if (keys.length < S) body.push(`\\vdots & & ${sc ? '\\vdots & ' : ''}\\vdots`);
  parts.push(tex(`\\begin{array}{rc${sc ? 'r' : ''}r}${[head, ...body].join(' \\\\ ')}\\end{array}`));
  if (c.s !== null) {
    const s = c.s;
    const ks = `k_{${s + 1}}`;
    if (sc && sc[s] !== -Infinity) {
      let z = 0;
      for (let j = 0; j < S; j++) if (sc[j] !== -Infinity) z += Math.exp(sc[j]);
      parts.push(tex(`\\text{hovered } ${ks}=${texText(c.keys[s])}:\\ \\frac{${qt}\\cdot ${ks}}{\\sqrt{${c.dK}}}=${texNumber(sc[s])}\\ \\text{before the softmax}`));
      parts.push(tex(`\\alpha_{${t + 1},${s + 1}}=\\frac{e^{${texNumber(sc[s])}}}{\\sum_{j} e^{${qt}\\cdot k_j/\\sqrt{${c.dK}}}}=\\frac{${texNumber(Math.exp(sc[s]))}}{${texNumber(z)}}=${texNumber(w[s])}\\ \\text{after}`));
    } else if (sc) {
      parts.push(tex(`\\frac{${qt}\\cdot ${ks}}{\\sqrt{${c.dK}}}=-\\infty\\ (\\text{masked})\\;\\Rightarrow\\;\\alpha_{${t + 1},${s + 1}}=0`));
    } else {
      parts.push(tex(`\\alpha_{${t + 1},${s + 1}}=${texNumber(w[s])}`));
    }
  }
  return parts.join('');
}
