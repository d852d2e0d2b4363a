// The usage history chart: an inline SVG line chart (no chart library) of licensed, acquired, each factor, unmatched
// and optionally one SKU, over 7 / 30 / 90 days, 12 months or a custom from–to. Accessible: the SVG is an image with
// a <title> and a <desc> that says what it shows; the legend's checkboxes show and hide lines; "Show data table" gives
// the same numbers as a table. The geometry is computed in lib/chart.ts, the dates and series in lib/history.ts.

import type { ViewProps } from '../context';
import { h, replace } from '../lib/dom';
import { formatCount } from '../lib/format';
import { CHART_SIZE, chartGeometry, chartSummary, seriesColour } from '../lib/chart';
import { formatDay, rangeDates, rangeText, RANGES, type ChartData, type DateRange, type RangeKey, type SeriesOptions } from '../lib/history';
import { refusal } from './licenceActions';

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element. */
function s(tag: string, attrs: Record<string, string | number> = {}, ...children: (Node | string)[]): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

let chartSeq = 0;

/**
 * Draws data over [from, to] into an SVG (role img, with <title> and <desc>). Each series is a <g data-series> with
 * its line and a dot per point (data-date, data-value; a <title> tooltip).
 */
export function chartSvg(data: ChartData, range: DateRange, title: string, hidden: ReadonlySet<string>): SVGElement {
  const id = `chart-${++chartSeq}`;
  const g = chartGeometry(data, range.from, range.to, hidden, CHART_SIZE);
  const colourOf = new Map(data.series.map((x, i) => [x.key, seriesColour(i)]));
  const svg = s(
    'svg',
    {
      class: 'chart-svg',
      role: 'img',
      viewBox: `0 0 ${g.size.width} ${g.size.height}`,
      preserveAspectRatio: 'xMidYMid meet',
      'aria-labelledby': `${id}-title ${id}-desc`,
    },
    s('title', { id: `${id}-title` }, title),
    s('desc', { id: `${id}-desc` }, chartSummary(data, hidden)),
  );
  const grid = s('g', { class: 'chart-grid', 'aria-hidden': 'true' });
  for (const t of g.yTicks) {
    grid.append(
      s('line', { x1: g.plot.x, x2: g.plot.x + g.plot.width, y1: t.y, y2: t.y, class: t.value === 0 ? 'chart-axis' : 'chart-gridline' }),
      s('text', { x: g.plot.x - 8, y: t.y, class: 'chart-ylabel', 'text-anchor': 'end', 'dominant-baseline': 'middle' }, t.label),
    );
  }
  for (const t of g.xTicks) {
    grid.append(
      s('line', { x1: t.x, x2: t.x, y1: g.plot.y + g.plot.height, y2: g.plot.y + g.plot.height + 5, class: 'chart-axis' }),
      s('text', { x: t.x, y: g.plot.y + g.plot.height + 20, class: 'chart-xlabel', 'text-anchor': 'middle' }, t.label),
    );
  }
  svg.append(grid);
  const lines = s('g', { class: g.dense ? 'chart-lines chart-dense' : 'chart-lines' });
  for (const x of g.series) {
    const colour = colourOf.get(x.key) ?? '#000';
    const group = s('g', { 'data-series': x.key, stroke: colour, fill: colour });
    if (x.path) group.append(s('path', { d: x.path, class: 'chart-line', fill: 'none' }));
    for (const d of x.dots) {
      group.append(s('circle', { cx: Math.round(d.x * 10) / 10, cy: Math.round(d.y * 10) / 10, r: g.dense && !d.isolated ? 1.6 : 3.5, class: 'chart-dot', 'data-date': d.date, 'data-value': d.value }, s('title', {}, `${x.label}, ${formatDay(d.date, true)}: ${formatCount(d.value)}`)));
    }
    lines.append(group);
  }
  svg.append(lines);
  if (data.dates.length === 0) {
    svg.append(s('text', { x: g.plot.x + g.plot.width / 2, y: g.plot.y + g.plot.height / 2, class: 'chart-empty', 'text-anchor': 'middle' }, 'No snapshots in this range'));
  }
  return svg;
}

/** The data as a table: one row per date, one column per series shown. */
export function chartTable(data: ChartData, label: string, hidden: ReadonlySet<string>): HTMLTableElement {
  const shown = data.series.filter((x) => !hidden.has(x.key));
  return h(
    'table',
    { className: 'table table-chart', 'aria-label': label },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Date'), ...shown.map((x) => h('th', { scope: 'col', 'data-series': x.key }, x.label)))),
    h(
      'tbody',
      {},
      ...(data.dates.length > 0
        ? data.dates.map((d, i) =>
            h(
              'tr',
              { 'data-date': d },
              h('th', { scope: 'row', className: 'nowrap' }, formatDay(d, true)),
              ...shown.map((x) => {
                const v = x.values[i];
                return h('td', { className: 'num', 'data-series': x.key }, v === null || v === undefined ? '—' : formatCount(v));
              }),
            ),
          )
        : [h('tr', { className: 'message-row' }, h('td', { colspan: shown.length + 1 }, 'No snapshots in this range.'))]),
    ),
  );
}

export interface HistoryCardOptions<T> {
  /** A prefix for element ids (unique on the page). */
  idPrefix: string;
  heading: string;
  /** A line under the heading. */
  intro?: string;
  /** Reads the points of a range (siteId: "" = all, or one of siteChoices). */
  fetch(range: DateRange, siteId: string, signal: AbortSignal): Promise<T[]>;
  build(points: T[], opts: SeriesOptions): ChartData;
  skus(points: T[]): { partNumber: string; name: string }[];
  /** Sites the chart can show one of ("" = the whole customer, listed first by the card). */
  siteChoices?: () => { value: string; label: string }[];
  now?: () => Date;
}

export interface HistoryCard {
  el: HTMLElement;
  /** Reads the range again (e.g. after Refresh took a snapshot). */
  reload(): Promise<void>;
  /** Refreshes the site menu (its choices changed). */
  updateSites(): void;
}

/** A card with the range controls, the chart, its legend and the data table toggle. */
export function historyCard<T>({ signal }: Pick<ViewProps, 'signal'>, o: HistoryCardOptions<T>): HistoryCard {
  const p = o.idPrefix;
  const now = o.now ?? (() => new Date());
  let rangeKey: RangeKey = '30d';
  let points: T[] = [];
  let range: DateRange | null = null;
  let sku = '';
  const hidden = new Set<string>();
  let showTable = false;

  const rangeGroup = h('div', { className: 'range-buttons', role: 'group', 'aria-label': 'Range' });
  const fromIn = h('input', { type: 'date', id: `${p}-from`, name: 'from', 'aria-describedby': `${p}-from-error` });
  const toIn = h('input', { type: 'date', id: `${p}-to`, name: 'to', 'aria-describedby': `${p}-to-error` });
  const fromErr = h('p', { id: `${p}-from-error`, className: 'field-error' });
  const toErr = h('p', { id: `${p}-to-error`, className: 'field-error' });
  const applyBtn = h('button', { type: 'submit', className: 'btn btn-small' }, 'Show');
  const custom = h(
    'form',
    { className: 'custom-range', 'aria-label': 'Custom range', novalidate: true, hidden: true },
    h('div', { className: 'field' }, h('label', { for: `${p}-from` }, 'From'), fromIn, fromErr),
    h('div', { className: 'field' }, h('label', { for: `${p}-to` }, 'To'), toIn, toErr),
    h('div', { className: 'field field-submit' }, applyBtn),
  );
  const siteSel = o.siteChoices ? h('select', { id: `${p}-site`, name: 'site' }) : null;
  const skuSel = h('select', { id: `${p}-sku`, name: 'sku' }, h('option', { value: '' }, 'None'));
  const status = h('div', { className: 'chart-status', 'aria-live': 'polite' });
  const rangeLabel = h('span', { className: 'small muted chart-range', 'data-testid': 'chart-range' });
  const figure = h('div', { className: 'chart-figure' });
  const legend = h('ul', { className: 'chart-legend', 'aria-label': 'Lines shown' });
  const tableBox = h('div', { className: 'table-wrap chart-table', id: `${p}-table`, hidden: true });
  const tableBtn = h('button', { type: 'button', className: 'btn btn-small', 'aria-expanded': 'false', 'aria-controls': `${p}-table` }, 'Show data table');

  const el = h(
    'section',
    { className: 'card history-card', 'aria-labelledby': `${p}-title`, 'data-testid': `${p}-card` },
    h('div', { className: 'panel-head' }, h('h2', { id: `${p}-title` }, o.heading), rangeLabel),
    o.intro ? h('p', { className: 'muted small' }, o.intro) : null,
    h(
      'div',
      { className: 'chart-controls' },
      rangeGroup,
      siteSel ? h('div', { className: 'field field-inline' }, h('label', { for: `${p}-site` }, 'Scope'), siteSel) : null,
      h('div', { className: 'field field-inline' }, h('label', { for: `${p}-sku` }, 'Licence line'), skuSel),
    ),
    custom,
    status,
    figure,
    legend,
    h('div', { className: 'chart-foot' }, tableBtn),
    tableBox,
  );

  function renderRangeButtons(): void {
    replace(
      rangeGroup,
      ...RANGES.map((r) => {
        const b = h('button', { type: 'button', className: r.value === rangeKey ? 'btn btn-small btn-toggle active' : 'btn btn-small btn-toggle', 'aria-pressed': String(r.value === rangeKey), 'data-range': r.value }, r.label);
        b.addEventListener('click', () => {
          rangeKey = r.value;
          renderRangeButtons();
          custom.hidden = rangeKey !== 'custom';
          if (rangeKey === 'custom') {
            if (range) {
              fromIn.value ||= range.from;
              toIn.value ||= range.to;
            }
            fromIn.focus();
            return;
          }
          void load();
        });
        return b;
      }),
    );
  }

  function draw(): void {
    if (!range) return;
    const data = o.build(points, { sku });
    replace(figure, chartSvg(data, range, `${o.heading}, ${rangeText(range)}`, hidden));
    replace(
      legend,
      ...data.series.map((x, i) => {
        const id = `${p}-legend-${i}`;
        const box = h('input', { type: 'checkbox', id, checked: !hidden.has(x.key), 'data-series': x.key });
        box.addEventListener('change', () => {
          if (box.checked) hidden.delete(x.key);
          else hidden.add(x.key);
          draw();
          legend.querySelector<HTMLInputElement>(`#${id}`)?.focus();
        });
        const swatch = h('span', { className: 'swatch', 'aria-hidden': 'true' });
        swatch.style.background = seriesColour(i);
        const last = [...x.values].reverse().find((v) => v !== null);
        return h(
          'li',
          { className: hidden.has(x.key) ? 'legend-off' : '' },
          box,
          h('label', { for: id }, swatch, x.label, last !== undefined && last !== null ? h('span', { className: 'muted small' }, ` ${formatCount(last)}`) : null),
        );
      }),
    );
    replace(tableBox, chartTable(data, `${o.heading}: data`, hidden));
    replace(rangeLabel, `${rangeText(range)} · ${data.dates.length} ${data.dates.length === 1 ? 'day' : 'days'} with data`);
  }

  function renderSkus(): void {
    const choices = o.skus(points);
    if (sku && !choices.some((c) => c.partNumber === sku)) choices.push({ partNumber: sku, name: sku });
    replace(skuSel, h('option', { value: '' }, 'None'), ...choices.map((c) => h('option', { value: c.partNumber }, c.name === c.partNumber ? c.name : `${c.name} (${c.partNumber})`)));
    skuSel.value = sku;
  }

  let seq = 0;
  async function load(): Promise<void> {
    const r = rangeDates(rangeKey, now(), { from: fromIn.value, to: toIn.value });
    replace(fromErr);
    replace(toErr);
    fromIn.removeAttribute('aria-invalid');
    toIn.removeAttribute('aria-invalid');
    if (!r.ok) {
      if (r.errors.from) {
        replace(fromErr, r.errors.from);
        fromIn.setAttribute('aria-invalid', 'true');
      }
      if (r.errors.to) {
        replace(toErr, r.errors.to);
        toIn.setAttribute('aria-invalid', 'true');
      }
      return;
    }
    const my = ++seq;
    figure.setAttribute('aria-busy', 'true');
    replace(status, h('p', { className: 'muted small' }, 'Loading…'));
    try {
      const pts = await o.fetch(r.range, siteSel?.value ?? '', signal);
      if (my !== seq || signal.aborted) return;
      points = pts;
      range = r.range;
      replace(status);
      renderSkus();
      draw();
    } catch (e) {
      if (my !== seq || signal.aborted) return;
      replace(status, refusal(e, 'Cannot load the history'));
    } finally {
      if (my === seq) figure.removeAttribute('aria-busy');
    }
  }

  function updateSites(): void {
    if (!siteSel || !o.siteChoices) return;
    const keep = siteSel.value;
    const choices = o.siteChoices();
    replace(siteSel, h('option', { value: '' }, 'Whole customer'), ...choices.map((c) => h('option', { value: c.value }, c.label)));
    siteSel.value = choices.some((c) => c.value === keep) ? keep : '';
  }

  custom.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void load();
  });
  siteSel?.addEventListener('change', () => void load());
  skuSel.addEventListener('change', () => {
    sku = skuSel.value;
    draw();
  });
  tableBtn.addEventListener('click', () => {
    showTable = !showTable;
    tableBox.hidden = !showTable;
    tableBtn.setAttribute('aria-expanded', String(showTable));
    replace(tableBtn, showTable ? 'Hide data table' : 'Show data table');
  });

  renderRangeButtons();
  updateSites();
  void load();
  return { el, reload: load, updateSites };
}
