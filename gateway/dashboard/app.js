// The coordinator dashboard: a static page that reads the gateway's own read-only API and redraws itself
// every few seconds. No framework and no build step: plain DOM code and uPlot (served by the gateway
// from node_modules), so the page works with no network beyond the gateway.

const REFRESH_MS = Number(new URLSearchParams(location.search).get('refresh') ?? 15) * 1000;
const WEEK_S = 7 * 86_400;
const WINDOWS = ['score_recent', 'score_steady', 'score_anchor'];
const WINDOW_NAMES = { score_recent: 'recent', score_steady: 'steady', score_anchor: 'anchor' };
const PALETTE = [
  '#2563eb',
  '#dc2626',
  '#16a34a',
  '#9333ea',
  '#ea580c',
  '#0891b2',
  '#be185d',
  '#4d7c0f',
  '#a16207',
  '#475569',
];

const state = {
  sort: { key: 'rank', descending: false },
  chartWindow: 'score_anchor',
  charts: [],
  timer: undefined,
};

/** GET a JSON route of this gateway; a non-2xx answer throws with the server's message. */
async function api(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  if (!response.ok) {
    let message = response.statusText;
    try {
      message = (await response.json()).message ?? message;
    } catch {}
    throw new Error(`${path}: ${response.status} ${message}`);
  }
  return response.json();
}

/** An element with attributes and children; strings become text nodes (never HTML). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

const score = (value) => (value === null || value === undefined ? '–' : Number(value).toPrecision(5));
const seconds = (value) => (value === null || value === undefined ? '–' : `${Number(value).toFixed(1)} s`);
const unixSeconds = (iso) => Date.parse(iso) / 1000;
const shortTime = (iso) => new Date(iso).toISOString().replace('T', ' ').slice(0, 19);

function ago(iso) {
  const s = Math.max(0, Math.round(Date.now() / 1000 - unixSeconds(iso)));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

function destroyCharts() {
  for (const chart of state.charts) chart.destroy();
  state.charts = [];
}

/**
 * A uPlot line chart of time series: `series` is [{label, points: [[unixSeconds, value|null], ...]}].
 * The x axis is the union of every series' times; a series without a value at a time has a gap there.
 * The container records how many points it drew (data-points), which the browser test reads.
 */
function lineChart(container, series, { height = 280, yLabel = 'score' } = {}) {
  const times = [...new Set(series.flatMap((s) => s.points.map(([t]) => t)))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const columns = series.map((s) => {
    const column = new Array(times.length).fill(null);
    for (const [t, value] of s.points) column[index.get(t)] = value;
    return column;
  });
  const drawn = columns.reduce((sum, column) => sum + column.filter((v) => v !== null).length, 0);
  container.dataset.points = String(drawn);
  container.dataset.series = String(series.length);
  if (drawn === 0) {
    container.replaceChildren(h('p', { class: 'muted' }, 'No scores in the last 7 days yet.'));
    return;
  }
  const width = Math.max(320, container.clientWidth || 900);
  const chart = new uPlot(
    {
      width,
      height,
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          spanGaps: false,
          // A series with few values would be a few dots nobody sees: mark each value.
          points: {
            show: columns[i].filter((v) => v !== null).length < 40,
            size: 6,
            fill: PALETTE[i % PALETTE.length],
          },
        })),
      ],
      axes: [{}, { label: yLabel, size: 70 }],
      scales: { x: { time: true } },
      legend: { live: true },
    },
    [times, ...columns],
    container,
  );
  state.charts.push(chart);
}

function sortedRows(rows) {
  const { key, descending } = state.sort;
  const value = (row) => row[key];
  return [...rows].sort((a, b) => {
    const [x, y] = [value(a), value(b)];
    if (x === y) return a.rank - b.rank;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    const order = typeof x === 'number' ? x - y : String(x).localeCompare(String(y));
    return descending ? -order : order;
  });
}

function leaderboardTable(rows, redraw) {
  const columns = [
    ['rank', 'Rank'],
    ['model_name', 'Model'],
    ['cruncher_name', 'Cruncher'],
    ['score_recent', 'Recent'],
    ['score_steady', 'Steady'],
    ['score_anchor', 'Anchor'],
  ];
  const header = columns.map(([key, label]) => {
    const active = state.sort.key === key;
    const sortOrder = active ? (state.sort.descending ? 'descending' : 'ascending') : 'none';
    return h(
      'th',
      { scope: 'col', 'aria-sort': sortOrder, 'data-key': key },
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            state.sort = { key, descending: active ? !state.sort.descending : key.startsWith('score_') };
            redraw();
          },
        },
        label,
        active ? (state.sort.descending ? ' ▼' : ' ▲') : '',
      ),
    );
  });
  const body = sortedRows(rows).map((row) =>
    h(
      'tr',
      { 'data-model-id': row.model_id },
      h('td', { class: 'num' }, row.rank),
      h('td', {}, h('a', { href: `#/model/${encodeURIComponent(row.model_id)}` }, row.model_name)),
      h('td', {}, row.cruncher_name ?? '–'),
      ...WINDOWS.map((w) => h('td', { class: 'num', 'data-window': w }, score(row[w]))),
    ),
  );
  return h('table', { id: 'leaderboard' }, h('thead', {}, h('tr', {}, header)), h('tbody', {}, body));
}

async function globalSeries(modelIds) {
  if (modelIds.length === 0) return [];
  const end = Math.floor(Date.now() / 1000);
  const ids = encodeURIComponent(modelIds.join(','));
  return api(`/reports/models/global?projectIds=${ids}&start=${end - WEEK_S}&end=${end}`);
}

async function leaderboardView(root) {
  const rows = await api('/reports/leaderboard');
  if (rows.length === 0) {
    root.replaceChildren(
      h('h2', {}, 'Leaderboard'),
      h('p', { class: 'muted' }, 'No leaderboard has been published yet.'),
    );
    return;
  }
  const top = [...rows].sort((a, b) => a.rank - b.rank).slice(0, 10);
  const history = await globalSeries(top.map((r) => r.model_id));
  const chart = h('div', { id: 'scores-chart', class: 'chart' });
  const tableHolder = h('div', { class: 'table-holder' });
  const redrawTable = () => tableHolder.replaceChildren(leaderboardTable(rows, redrawTable));
  redrawTable();
  const drawChart = () => {
    destroyCharts();
    chart.replaceChildren();
    const nameOf = new Map(rows.map((r) => [r.model_id, r.model_name]));
    lineChart(
      chart,
      top.map((r) => ({
        label: nameOf.get(r.model_id) ?? r.model_id,
        points: history
          .filter((s) => s.model_id === r.model_id)
          .map((s) => [unixSeconds(s.performed_at), s[state.chartWindow]]),
      })),
      { yLabel: `${WINDOW_NAMES[state.chartWindow]} score` },
    );
  };
  const windowPicker = h(
    'fieldset',
    { class: 'window-picker' },
    h('legend', {}, 'Window'),
    WINDOWS.map((w) =>
      h(
        'label',
        {},
        h('input', {
          type: 'radio',
          name: 'window',
          value: w,
          checked: w === state.chartWindow,
          onchange: () => {
            state.chartWindow = w;
            drawChart();
          },
        }),
        ` ${WINDOW_NAMES[w]}`,
      ),
    ),
  );
  root.replaceChildren(
    h('h2', {}, 'Leaderboard'),
    h(
      'p',
      { class: 'muted' },
      `Published ${shortTime(rows[0].created_at)} UTC (${ago(rows[0].created_at)}); ${rows.length} models. Click a column to sort.`,
    ),
    tableHolder,
    h('h2', {}, 'Scores over the last 7 days (top 10)'),
    windowPicker,
    chart,
  );
  drawChart();
}

/** Failure reasons among a model's recent predictions: the call's reason, else the scorer's. */
function failureReasons(predictions) {
  const counts = new Map();
  for (const p of predictions) {
    const reason =
      p.status !== 'SUCCESS' ? (p.reason ?? p.status) : p.score_success === false ? p.score_failed_reason : null;
    if (!reason) continue;
    const key = `${p.status}: ${reason}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}

async function modelView(root, modelId) {
  const [detail, history] = await Promise.all([
    api(`/reports/models/${encodeURIComponent(modelId)}?limit=500`),
    globalSeries([modelId]),
  ]);
  const counts = detail.prediction_counts;
  const tiles = ['total', 'success', 'failed', 'timeout', 'absent', 'scored', 'score_failed'].map((key) =>
    h(
      'div',
      { class: `tile ${key}`, 'data-count': key },
      h('span', { class: 'value' }, counts[key]),
      h('span', {}, key.replace('_', ' ')),
    ),
  );
  const reasons = failureReasons(detail.recent_predictions);
  const chart = h('div', { id: 'model-chart', class: 'chart' });
  const recent = detail.recent_predictions
    .slice(0, 50)
    .map((p) =>
      h(
        'tr',
        { class: p.status.toLowerCase() },
        h('td', {}, shortTime(p.performed_at)),
        h('td', {}, `${p.asset} ${p.horizon}/${p.step}`),
        h('td', {}, h('span', { class: `status ${p.status.toLowerCase()}` }, p.status)),
        h('td', { class: 'num' }, p.exec_time_us === null ? '–' : `${(p.exec_time_us / 1000).toFixed(1)} ms`),
        h('td', { class: 'num' }, p.scored_at ? score(p.score_value) : 'not scored yet'),
        h('td', { class: 'reason' }, p.reason ?? p.score_failed_reason ?? ''),
      ),
    );
  const standing = detail.leaderboard ? `rank ${detail.leaderboard.rank}` : 'not ranked';
  const deployment = detail.deployment
    ? `${detail.deployment.state} (seen ${ago(detail.deployment.last_seen_at)})`
    : 'never deployed';
  root.replaceChildren(
    h('p', {}, h('a', { href: '#/leaderboard' }, '← Leaderboard')),
    h('h2', { id: 'model-name' }, detail.model_name, h('span', { class: 'muted' }, ` ${detail.model_id}`)),
    h('p', {}, `${detail.cruncher_name ?? 'no cruncher on record'} · ${standing} · deployment ${deployment}`),
    h('h3', {}, 'Scores over the last 7 days'),
    chart,
    h('h3', {}, `Predictions since ${shortTime(detail.window.start)} UTC`),
    h('div', { class: 'tiles' }, tiles),
    h('h3', {}, 'Failure reasons'),
    reasons.length === 0
      ? h('p', { class: 'muted' }, 'None among the recent predictions.')
      : h(
          'ul',
          { id: 'failure-reasons' },
          reasons.map(([reason, count]) => h('li', {}, h('span', { class: 'count' }, `${count}×`), ` ${reason}`)),
        ),
    h('h3', {}, 'Recent predictions'),
    h(
      'table',
      { id: 'recent-predictions' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Made (UTC)', 'Asset horizon/step', 'Status', 'Time', 'Score', 'Reason'].map((t) =>
            h('th', { scope: 'col' }, t),
          ),
        ),
      ),
      h('tbody', {}, recent),
    ),
  );
  destroyCharts();
  lineChart(
    chart,
    WINDOWS.map((w) => ({
      label: WINDOW_NAMES[w],
      points: history.map((s) => [unixSeconds(s.performed_at), s[w]]),
    })),
  );
}

/** A link to the runs of the predict cycle in the Temporal Web UI, when the gateway knows its address. */
function runLink(cycle, newer) {
  const ui = document.body.dataset.temporalUi;
  if (!ui) return '–';
  const namespace = document.body.dataset.temporalNamespace || 'default';
  const until = newer ? newer.scheduled_at : new Date(Date.parse(cycle.scheduled_at) + 3_600_000).toISOString();
  const from = cycle.scheduled_at.replace('+00:00', 'Z');
  const query = `WorkflowType="predictCycle" AND CycleTime >= "${from}" AND CycleTime < "${until.replace('+00:00', 'Z')}"`;
  const href = `${ui.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows?query=${encodeURIComponent(query)}`;
  return h('a', { href, target: '_blank', rel: 'noopener' }, 'run');
}

async function cyclesView(root) {
  const cycles = await api('/reports/cycles?limit=30');
  if (cycles.length === 0) {
    root.replaceChildren(
      h('h2', {}, 'Predict cycles'),
      h('p', { class: 'muted' }, 'No predict cycle has stored a prediction yet.'),
    );
    return;
  }
  const late = cycles.filter((c) => !c.on_time).length;
  const rows = cycles.map((c, i) =>
    h(
      'tr',
      { class: c.on_time ? 'on-time' : 'late' },
      h('td', {}, shortTime(c.scheduled_at)),
      h('td', {}, h('span', { class: `badge ${c.on_time ? 'ok' : 'late'}` }, c.on_time ? 'on time' : 'late')),
      h('td', { class: 'num' }, seconds(c.first_answer_after_seconds)),
      h('td', { class: 'num' }, seconds(c.last_answer_after_seconds)),
      h('td', { class: 'num' }, c.models_called),
      h('td', { class: 'num' }, c.success),
      h('td', { class: 'num' }, c.failed),
      h('td', { class: 'num' }, c.timeout),
      h('td', { class: 'num' }, c.absent),
      h('td', {}, c.assets.join(' ')),
      h('td', { class: 'reason' }, c.failure_reasons.map((f) => `${f.count}× ${f.reason}`).join('; ')),
      h('td', {}, runLink(c, cycles[i - 1])),
    ),
  );
  root.replaceChildren(
    h('h2', {}, 'Predict cycles'),
    h(
      'p',
      { class: 'muted' },
      `The last ${cycles.length}: ${cycles.length - late} on time, ${late} late (first answer stored more than 15 s after the cycle's instant).`,
    ),
    h(
      'table',
      { id: 'cycles' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          [
            'Instant (UTC)',
            'Health',
            'First answer',
            'Last answer',
            'Models',
            'Success',
            'Failed',
            'Timeout',
            'Absent',
            'Assets',
            'Failures',
            'Temporal',
          ].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h('tbody', {}, rows),
    ),
  );
}

async function feedView(root) {
  const points = await api('/reports/prices/tail?limit=120');
  const assets = [...new Set(points.map((p) => p.asset))];
  if (assets.length === 0) {
    root.replaceChildren(h('h2', {}, 'Price feed'), h('p', { class: 'muted' }, 'No prices stored yet.'));
    return;
  }
  const cards = assets.map((asset) => {
    const series = points.filter((p) => p.asset === asset);
    const newest = series[0];
    const chart = h('div', { class: 'chart small', 'data-asset': asset });
    return {
      asset,
      series,
      chart,
      card: h(
        'section',
        { class: 'card', 'data-asset': asset },
        h('h3', {}, asset),
        h('p', { class: 'price' }, newest.price.toLocaleString('en-US', { maximumFractionDigits: 6 })),
        h('p', { class: 'muted' }, `${shortTime(newest.ts)} UTC, ${ago(newest.ts)}`),
        chart,
      ),
    };
  });
  root.replaceChildren(
    h('h2', {}, 'Price feed'),
    h('p', { class: 'muted' }, 'The newest one-minute closes stored for each asset.'),
    h(
      'div',
      { class: 'cards' },
      cards.map((c) => c.card),
    ),
  );
  destroyCharts();
  for (const c of cards) {
    lineChart(c.chart, [{ label: c.asset, points: c.series.map((p) => [unixSeconds(p.ts), p.price]).reverse() }], {
      height: 160,
      yLabel: 'price',
    });
  }
}

async function freshness() {
  const line = document.getElementById('freshness');
  try {
    const [board, cycles] = await Promise.all([api('/reports/leaderboard'), api('/reports/cycles?limit=1')]);
    const parts = [];
    parts.push(board[0] ? `leaderboard ${ago(board[0].created_at)}` : 'no leaderboard yet');
    parts.push(
      cycles[0]
        ? `last cycle ${ago(cycles[0].scheduled_at)} (${cycles[0].on_time ? 'on time' : 'late'})`
        : 'no cycle yet',
    );
    line.textContent = parts.join(' · ');
  } catch (error) {
    line.textContent = `could not read the gateway: ${error.message}`;
  }
}

async function render() {
  clearTimeout(state.timer);
  const root = document.getElementById('view');
  const [view, argument] = location.hash.replace(/^#\/?/, '').split('/');
  const name = view || 'leaderboard';
  for (const link of document.querySelectorAll('nav a')) {
    link.toggleAttribute('aria-current', link.dataset.view === name);
  }
  root.setAttribute('aria-busy', 'true');
  try {
    if (name === 'model' && argument) await modelView(root, decodeURIComponent(argument));
    else if (name === 'cycles') await cyclesView(root);
    else if (name === 'feed') await feedView(root);
    else await leaderboardView(root);
    root.dataset.view = name;
    root.dataset.renderedAt = new Date().toISOString();
  } catch (error) {
    destroyCharts();
    root.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Could not load this view: ${error.message}`));
  } finally {
    root.setAttribute('aria-busy', 'false');
  }
  await freshness();
  if (REFRESH_MS > 0) state.timer = setTimeout(render, REFRESH_MS);
}

document.getElementById('refresh-seconds').textContent = String(REFRESH_MS / 1000);
window.addEventListener('hashchange', render);
render();
