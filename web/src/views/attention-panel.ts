// The attention panel: kinds as tabs, the model view (layers × heads), the selected head large, its head view and equations.

import type { AttentionGroup, AttentionView } from '../../../src/inference/view-json.js';
import { headColor } from './colors.js';
import { liveEquations, seedEquations } from './equations.js';
import { drawHeadView, queryAt } from './head-view.js';
import { drawHeatmap, headMatrix, heatmapDetail } from './heatmap.js';

/** What is selected: the kind of attention, layer and head, and the query row the equations show. */
export interface AttentionSelection {
  group: number;
  layer: number;
  head: number;
  query: number;
  /** The hovered key (null when none). */
  key: number | null;
  /** The head view draws every head (true) or the selected one. */
  allHeads: boolean;
}

/** A drawn panel: change the selection from outside (tests, keys), read it back. */
export interface AttentionPanel {
  readonly selection: AttentionSelection;
  select(s: Partial<AttentionSelection>): void;
  /** Milliseconds the last full draw took (the model view's heatmaps and the head view). */
  readonly lastDrawMs: number;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * Draws a view's attention into `root` and keeps it live: a click on a thumbnail selects its layer
 * and head, hovering the large heatmap shows that cell's numbers in the equations.
 */
export function attentionPanel(root: HTMLElement, view: AttentionView, onChange?: (s: AttentionSelection) => void): AttentionPanel {
  const firstGroup = Math.max(0, view.groups.findIndex((g) => g.kind === 'cross'));
  const sel: AttentionSelection = { group: firstGroup, layer: 0, head: 0, query: 0, key: null, allHeads: true };
  let lastDrawMs = 0;
  root.replaceChildren();
  root.classList.add('attention-panel');

  const tabs = el('div', 'tabs');
  const body = el('div', 'attention-body');
  const modelView = el('div', 'model-view');
  modelView.dataset.testid = 'model-view';
  const detail = el('div', 'detail');
  const headViewBox = el('div', 'head-view');
  const equations = el('div', 'equations');
  equations.dataset.testid = 'equations';
  const seed = el('div', 'seed-equations');
  seed.innerHTML = seedEquations();
  const live = el('div', 'live-equations');
  equations.append(seed, live);
  body.append(el('div', 'col-model', ''), el('div', 'col-detail', ''), el('div', 'col-eq', ''));
  (body.children[0] as HTMLElement).append(el('h3', '', 'Model view: layers × heads (click one)'), el('div', 'legend', 'shade ∝ √weight: white 0, dark blue 1'), modelView);
  const rowsNote = el('div', 'legend rows-note', '');
  (body.children[1] as HTMLElement).append(el('h3', 'detail-title', ''), rowsNote, detail, el('h3', '', 'Head view (click a query token on the left)'), headViewBox);
  (body.children[2] as HTMLElement).append(el('h3', '', 'Scaled dot-product attention'), equations);
  root.append(tabs, body);

  const group = (): AttentionGroup => view.groups[sel.group];
  const thumbs: HTMLCanvasElement[][] = [];

  function drawTabs(): void {
    tabs.replaceChildren(...view.groups.map((g, i) => {
      const b = el('button', i === sel.group ? 'tab active' : 'tab', g.title);
      b.dataset.kind = g.kind;
      b.onclick = () => select({ group: i, layer: 0, head: 0, query: 0, key: null });
      return b;
    }));
  }

  function drawModelView(): void {
    const g = group();
    modelView.replaceChildren();
    thumbs.length = 0;
    const H = view.model.heads;
    modelView.style.gridTemplateColumns = `auto repeat(${H}, 1fr)`;
    modelView.append(el('span', 'corner', ''));
    for (let h = 0; h < H; h++) {
      const label = el('span', 'head-label', `head ${h + 1}`);
      label.style.color = headColor(h);
      modelView.append(label);
    }
    g.layers.forEach((map, l) => {
      modelView.append(el('span', 'layer-label', `layer ${l + 1}`));
      const row: HTMLCanvasElement[] = [];
      for (let h = 0; h < H; h++) {
        const c = el('canvas', 'thumb');
        c.dataset.layer = String(l);
        c.dataset.head = String(h);
        c.title = `${g.title}, layer ${l + 1}, head ${h + 1}`;
        drawHeatmap(c, headMatrix(map, h));
        c.onclick = () => select({ layer: l, head: h, allHeads: false, key: null });
        row.push(c);
        modelView.append(c);
      }
      thumbs.push(row);
    });
  }

  function markSelected(): void {
    thumbs.forEach((row, l) => row.forEach((c, h) => c.classList.toggle('selected', l === sel.layer && h === sel.head)));
  }

  function drawEquations(): void {
    const g = group();
    const m = headMatrix(g.layers[sel.layer], sel.head);
    live.innerHTML = liveEquations({
      group: g.title.split(' (')[0], layer: sel.layer, head: sel.head, heads: view.model.heads, dK: view.model.dK,
      queries: g.queries, keys: g.keys, m, t: Math.min(sel.query, m.T - 1), s: sel.key,
    });
  }

  function drawDetail(): void {
    const g = group();
    const map = g.layers[sel.layer];
    (root.querySelector('.detail-title') as HTMLElement).textContent = `${g.title}: layer ${sel.layer + 1}, head ${sel.head + 1} (hover a cell)`;
    // The decoder's rows are its inputs, one behind its outputs: the row of token t is where token t+1 is chosen.
    rowsNote.textContent = g.kind === 'encoder' ? 'rows: queries, columns: keys'
      : `rows: the ${view.modelKind === 'gpt' ? 'model' : 'decoder'}'s inputs (${view.modelKind === 'gpt' ? 'the prompt, then its output so far' : '<s>, then the answer so far'}); each row is where the next token is chosen`;
    const m = headMatrix(map, sel.head);
    detail.replaceChildren(heatmapDetail(m, g.queries, g.keys, (cell) => {
      if (cell) {
        sel.query = cell.t;
        sel.key = cell.s;
      } else {
        sel.key = null;
      }
      drawEquations();
      onChange?.({ ...sel });
    }));
    const controls = el('div', 'head-controls');
    const all = el('label', '', '');
    const box = el('input');
    box.type = 'checkbox';
    box.checked = sel.allHeads;
    box.onchange = () => select({ allHeads: box.checked });
    all.append(box, document.createTextNode(' all heads'));
    controls.append(all);
    const canvas = el('canvas', 'lines');
    drawHeadView(canvas, map, g.queries, g.keys, { heads: sel.allHeads ? [...Array(view.model.heads).keys()] : [sel.head], query: headQuery });
    canvas.onclick = (e) => {
      const t = queryAt(canvas, e, m.T);
      headQuery = t === headQuery ? null : t;
      if (t !== null) sel.query = t;
      drawDetail();
      drawEquations();
      onChange?.({ ...sel });
    };
    headViewBox.replaceChildren(controls, canvas);
  }

  let headQuery: number | null = null;

  function select(s: Partial<AttentionSelection>): void {
    const groupChanged = s.group !== undefined && s.group !== sel.group;
    Object.assign(sel, s);
    if (groupChanged) headQuery = null;
    const t0 = performance.now();
    if (groupChanged || thumbs.length === 0) {
      drawTabs();
      drawModelView();
    }
    markSelected();
    drawDetail();
    lastDrawMs = performance.now() - t0;
    drawEquations();
    onChange?.({ ...sel });
  }

  select({});
  return {
    get selection() { return { ...sel }; },
    select,
    get lastDrawMs() { return lastDrawMs; },
  };
}
