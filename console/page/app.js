// The operator console's page: renders the snapshots the server pushes (server-sent events) with textContent only,
// never innerHTML, so nothing the platform recorded can become markup. Actions carry the page's CSRF token.

const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
const $ = (id) => document.getElementById(id);
const STATE_LABELS = {
  submitted: 'submitted',
  tiresOrdered: 'tires ordered',
  completed: 'completed',
  failed: 'failed',
};
let snapshot;
let selectedOrder;

/** An element with text content and optional class names and attributes. */
function el(tag, text, className, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

function row(cells, className) {
  const tr = el('tr', undefined, className);
  for (const cell of cells) tr.append(cell instanceof Node ? cell : el('td', cell ?? ''));
  return tr;
}

const time = (iso) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '');

function renderOrders(orders) {
  const counts = $('order-counts');
  counts.replaceChildren(
    ...Object.entries(STATE_LABELS).map(([state, label]) => {
      const box = el('span', undefined, `count count-${state}`, { 'data-state': state });
      box.append(el('b', orders ? orders.counts[state] : '-'), label);
      return box;
    }),
  );
  const filter = $('order-filter').value.trim().toLowerCase();
  const state = $('order-state').value;
  const rows = (orders?.rows ?? []).filter(
    (o) =>
      (!state || o.state === state) &&
      (!filter || [o.id, o.clientId, o.carType, o.status].some((v) => v && v.toLowerCase().includes(filter))),
  );
  $('order-rows').replaceChildren(
    ...rows.map((o) => {
      const tr = row(
        [
          o.id,
          el('td', STATE_LABELS[o.state] + (o.workState ? ` (${o.workState})` : ''), `state-${o.state}`),
          o.clientId,
          o.carType,
          o.quantity,
          time(o.createdAt),
          time(o.updatedAt),
        ],
        `order${o.id === selectedOrder ? ' selected' : ''}`,
      );
      tr.dataset.orderId = o.id;
      tr.dataset.state = o.state;
      tr.addEventListener('click', () => openTimeline(o.id));
      return tr;
    }),
  );
  $('orders-more').textContent = orders?.more ? 'Showing the first 1000 orders.' : '';
}

async function openTimeline(id) {
  selectedOrder = id;
  $('timeline').hidden = false;
  $('timeline-order').textContent = id;
  $('timeline-summary').textContent = 'loading…';
  const response = await fetch(`/api/orders/${encodeURIComponent(id)}/trace`);
  const body = await response.json();
  if (!response.ok) {
    $('timeline-summary').textContent = body.detail ?? `HTTP ${response.status}`;
    $('timeline-hops').replaceChildren();
    return;
  }
  $('timeline-summary').textContent =
    `status ${body.status ?? '-'}, correlation id ${body.correlationId}` +
    (body.tireOrderId ? `, tire order ${body.tireOrderId}` : '');
  $('timeline-hops').replaceChildren(
    ...body.hops.map((hop) => {
      const li = el('li', undefined, 'hop', { 'data-hop': hop.hop });
      li.append(el('time', time(hop.time)), el('b', hop.hop), ` ${hop.detail} `, el('small', `(${hop.source})`));
      return li;
    }),
  );
  $('timeline-notes').textContent = body.notes.join(' ');
  if (snapshot) renderOrders(snapshot.orders);
}

async function act(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    $('errors').textContent = `${path}: ${problem.detail ?? response.status}`;
  }
}

function actionButton(label, path, body) {
  const button = el('button', label, undefined, { type: 'button' });
  button.addEventListener('click', () => act(path, body));
  return button;
}

function renderDeadLetters(deadLetters, actions) {
  const rows = deadLetters?.rows ?? [];
  $('dlq-count').textContent = deadLetters ? `(${rows.length})` : '';
  $('dlq-rows').replaceChildren(
    ...rows.map((m) => {
      const buttons = el('td');
      buttons.append(
        actionButton('Redrive', '/api/dlq/redrive', { messageIds: [m.messageId] }),
        actionButton('Discard', '/api/dlq/discard', { messageIds: [m.messageId] }),
      );
      const tr = row([
        m.messageId,
        m.carOrderId,
        time(m.eventTime),
        m.retryAttempts,
        m.errorCode,
        m.reason,
        el('td', m.responseBody ?? '', 'body'),
        buttons,
      ]);
      tr.dataset.messageId = m.messageId;
      tr.dataset.carOrderId = m.carOrderId ?? '';
      return tr;
    }),
  );
  const busy = (actions ?? []).some((a) => a.state === 'running');
  for (const id of ['dlq-redrive-all', 'dlq-discard-all']) $(id).disabled = busy || rows.length === 0;
  $('action-log').replaceChildren(
    ...(actions ?? []).map((a) => el('li', `${time(a.startedAt)} ${a.summary}`, `action-${a.state}`)),
  );
}

function renderDeliveries(deliveries) {
  $('deliveries-note').textContent = deliveries?.note ?? '';
  $('delivery-rows').replaceChildren(
    ...(deliveries?.rows ?? []).map((d) =>
      row([
        time(d.time),
        d.carOrderId,
        d.eventId,
        d.attempt,
        el('td', d.outcome + (d.replayName ? ` (${d.replayName})` : ''), `outcome-${d.outcome}`),
        d.status,
        d.latencyMs !== undefined ? `${Math.round(d.latencyMs)} ms` : '',
        el('td', d.error ?? '', 'wrap'),
      ]),
    ),
  );
}

function renderRefusals(refusals) {
  $('refusals-note').textContent = refusals?.note ?? '';
  $('refusal-rows').replaceChildren(
    ...(refusals?.rows ?? []).map((r) =>
      row([
        time(r.time),
        r.company,
        r.layer,
        r.status,
        r.sourceIp,
        r.clientId ?? (r.claimedClientId ? `${r.claimedClientId} (claimed)` : ''),
        [r.method, r.path].filter(Boolean).join(' '),
        r.problem,
      ]),
    ),
  );
}

function renderPartners(partners) {
  $('partner-rows').replaceChildren(
    ...(partners ?? []).map((p) =>
      row([
        p.name,
        p.clientId,
        el('td', p.state + (p.revokedAt ? ` ${time(p.revokedAt)}` : ''), `state-${p.state.replace(/ /g, '-')}`),
        p.apiKeyIds.join(' '),
        p.cidrs.join(' '),
        p.scopes.join(' '),
        p.rotation ? time(p.rotation.deadline) : '',
        p.managedBy,
      ]),
    ),
  );
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

function barChart(values) {
  const max = Math.max(1, ...values);
  const chart = svg('svg', { viewBox: `0 0 ${values.length * 10} 100`, preserveAspectRatio: 'none', role: 'img' });
  values.forEach((value, i) => {
    const height = (value / max) * 95;
    const bar = svg('rect', { x: i * 10 + 1, y: 100 - height, width: 8, height });
    bar.append(svg('title', {}));
    bar.firstChild.textContent = `${value} order(s)`;
    chart.append(bar);
  });
  return chart;
}

function lineChart(series) {
  const all = series.flatMap((s) => s.points.filter((p) => p !== null));
  const max = Math.max(1, ...all);
  const chart = svg('svg', { viewBox: '-3 0 116 100', preserveAspectRatio: 'none', role: 'img' });
  series.forEach((s, index) => {
    const points = s.points
      .map((p, i) => (p === null ? null : `${i * 10},${100 - (p / max) * 95}`))
      .filter(Boolean)
      .join(' ');
    chart.append(svg('polyline', { points, class: `series-${index}` }));
    // A dot per bucket, so a single bucket with calls shows too.
    s.points.forEach((p, i) => {
      if (p !== null)
        chart.append(svg('circle', { cx: i * 10, cy: 100 - (p / max) * 95, r: 2, class: `series-${index}` }));
    });
  });
  return chart;
}

function renderHealth(alarms, throughput) {
  $('alarm-list').replaceChildren(
    ...(alarms ?? []).map((a) => {
      const li = el('li', undefined, undefined, { 'data-alarm': a.name });
      li.append(el('b', a.state, `alarm-${a.state}`), ` ${a.company} ${a.name}: ${a.reason}`);
      return li;
    }),
  );
  if (!throughput) return;
  const total = throughput.ordersPerMinute.reduce((a, b) => a + b, 0);
  $('orders-chart').replaceChildren(
    barChart(throughput.ordersPerMinute),
    el('div', `${total} order(s) in the last hour`, 'legend'),
  );
  const legend = throughput.latencyP95.map((s, i) => {
    const last = [...s.points].reverse().find((p) => p !== null);
    return `${i === 0 ? 'blue' : 'orange'}: ${s.api}${last !== undefined ? ` (last ${Math.round(last)} ms)` : ''}`;
  });
  $('latency-chart').replaceChildren(
    lineChart(throughput.latencyP95),
    el('div', legend.join(' · ') || 'no calls', 'legend'),
  );
}

function render() {
  if (!snapshot) return;
  $('target').textContent = `${snapshot.target.label} · updated ${time(snapshot.generatedAt)}`;
  $('read-only').textContent = snapshot.readOnly.join(' ');
  $('errors').textContent = Object.entries(snapshot.errors)
    .map(([section, message]) => `${section}: ${message}`)
    .join(' · ');
  renderOrders(snapshot.orders);
  renderDeadLetters(snapshot.deadLetters, snapshot.actions);
  renderDeliveries(snapshot.deliveries);
  renderRefusals(snapshot.refusals);
  renderPartners(snapshot.partners);
  renderHealth(snapshot.alarms, snapshot.throughput);
}

$('order-filter').addEventListener('input', render);
$('order-state').addEventListener('change', render);
$('dlq-redrive-all').addEventListener('click', () => act('/api/dlq/redrive', { all: true }));
$('dlq-discard-all').addEventListener('click', () => {
  if (confirm('Discard every message in the dead-letter queue?')) act('/api/dlq/discard', { all: true });
});

const events = new EventSource('/api/events');
events.addEventListener('open', () => {
  $('live').textContent = 'live';
  $('live').classList.add('on');
});
events.addEventListener('error', () => {
  $('live').textContent = 'reconnecting';
  $('live').classList.remove('on');
});
events.addEventListener('snapshot', (event) => {
  snapshot = JSON.parse(event.data);
  render();
});
