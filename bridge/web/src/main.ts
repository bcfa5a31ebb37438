// The dashboard page: connection badge, devices with their presence, the latest value of every
// topic with its age, and charts of the numbers the user picks.
import 'uplot/dist/uPlot.min.css';
import './style.css';

import { Charts } from './charts';
import { type ConnectionState, LiveStream, withToken } from './connection';
import {
  type Envelope,
  formatAge,
  formatNumber,
  numericFields,
  payloadText,
  type PresenceRecord,
  seriesKey,
} from './values';

const kChartsStorageKey = 'tern.dashboard.charts';

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', text = '') {
  const node = document.createElement(tag);
  if (className !== '') {
    node.className = className;
  }
  if (text !== '') {
    node.textContent = text;
  }
  return node;
}

function byId(id: string): HTMLElement {
  const node = document.getElementById(id);
  if (node === null) {
    throw new Error(`index.html has no #${id}`);
  }
  return node;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(withToken(url), { headers: { Accept: 'application/json' } });
  if (!response.ok) {
    throw new Error(`${url}: ${response.status} ${response.statusText}`);
  }
  return (await response.json()) as T;
}

interface DeviceRow {
  record: PresenceRecord;
  row: HTMLElement;
  badge: HTMLElement;
  seen: HTMLElement;
  detail: HTMLElement;
}

interface TopicRow {
  envelope: Envelope;
  row: HTMLElement;
  value: HTMLElement;
  age: HTMLElement;
}

class Dashboard {
  private readonly devices = new Map<string, DeviceRow>();
  private readonly topics = new Map<string, TopicRow>();
  private readonly charts: Charts;
  private readonly stream: LiveStream;
  private readonly badge = byId('connection');
  private readonly notice = byId('notice');
  private filter = '';

  constructor() {
    this.charts = new Charts(byId('charts'), () => this.chartsChanged());
    this.stream = new LiveStream(['#'], {
      onMessage: (envelope) => this.message(envelope),
      onPresence: (record) => this.presence(record),
      onGap: (message) => this.gap(message),
      onOpen: () => void this.loadPresence(),
      onState: (state, detail) => this.connection(state, detail),
    });
    const filterBox = byId('topic-filter') as HTMLInputElement;
    filterBox.addEventListener('input', () => {
      this.filter = filterBox.value.trim().toLowerCase();
      for (const entry of this.topics.values()) {
        this.applyFilter(entry);
      }
    });
    byId('connection').addEventListener('click', () => this.stream.retryNow());
  }

  start(): void {
    for (const key of this.savedCharts()) {
      this.charts.add(key);
    }
    this.stream.start();
    window.setInterval(() => this.tick(), 1000);
  }

  // --- connection ---------------------------------------------------------------------------

  private connection(state: ConnectionState, detail: string): void {
    const labels: Record<ConnectionState, string> = {
      connecting: 'connecting',
      live: 'live',
      disconnected: 'disconnected',
      reconnecting: 'reconnecting',
    };
    this.badge.dataset.state = state;
    this.badge.textContent = labels[state];
    this.badge.title = detail !== '' ? `${labels[state]}: ${detail}` : labels[state];
    byId('connection-detail').textContent = detail;
  }

  private gap(message: string): void {
    // The server follows a gap with the retained values; the charts are filled again from the
    // history, which holds what is left of the missed messages.
    this.showNotice(`Some messages were missed (${message}). Values were refreshed.`);
    this.charts.refetch();
    void this.loadRetained();
  }

  private showNotice(text: string): void {
    this.notice.textContent = text;
    this.notice.hidden = false;
    window.setTimeout(() => {
      this.notice.hidden = true;
    }, 8000);
  }

  // --- devices ------------------------------------------------------------------------------

  private async loadPresence(): Promise<void> {
    try {
      const records = await getJson<PresenceRecord[]>('api/presence');
      const seen = new Set<string>();
      for (const record of records) {
        seen.add(record.client_id);
        const known = this.devices.get(record.client_id);
        // An event that came while the snapshot was on its way is newer: keep it.
        if (known === undefined || stamp(record) >= stamp(known.record)) {
          this.presence(record);
        }
      }
      for (const entry of this.devices.values()) {
        if (!seen.has(entry.record.client_id) && entry.record.online) {
          this.presence({ ...entry.record, online: false });
        }
      }
    } catch (error) {
      this.showNotice(`Could not load the devices: ${String(error)}`);
    }
  }

  private presence(record: PresenceRecord): void {
    let entry = this.devices.get(record.client_id);
    if (entry === undefined) {
      const row = element('li', 'device');
      row.dataset.device = record.client_id;
      const name = element('span', 'device-name', record.client_id);
      name.title = record.client_id;
      const badge = element('span', 'presence');
      const seen = element('span', 'seen');
      const detail = element('span', 'device-detail');
      row.append(badge, name, seen, detail);
      entry = { record, row, badge, seen, detail };
      this.devices.set(record.client_id, entry);
      insertSorted(byId('devices'), row, record.client_id, (node) => node.dataset.device ?? '');
    }
    entry.record = record;
    entry.row.dataset.online = String(record.online);
    entry.badge.textContent = record.online ? 'online' : 'offline';
    entry.detail.textContent = `MQTT ${record.protocol}${record.peer ? ` · ${record.peer}` : ''}`;
    this.renderSeen(entry, Date.now());
    this.counts();
  }

  private renderSeen(entry: DeviceRow, now: number): void {
    const { record } = entry;
    // "connected now", "last seen 12s ago".
    const since = (timestamp: number) => {
      const age = formatAge(timestamp, now);
      return age === 'now' ? 'now' : `${age} ago`;
    };
    entry.seen.textContent = record.online
      ? `connected ${since(record.connected_at)}`
      : `last seen ${since(record.last_seen || record.connected_at)}`;
  }

  // --- topics -------------------------------------------------------------------------------

  private async loadRetained(): Promise<void> {
    try {
      for (const envelope of await getJson<Envelope[]>('api/retained?filter=%23')) {
        this.message(envelope);
      }
    } catch (error) {
      this.showNotice(`Could not load the retained values: ${String(error)}`);
    }
  }

  private message(envelope: Envelope): void {
    this.charts.message(envelope);
    let entry = this.topics.get(envelope.topic);
    if (entry !== undefined && envelope.timestamp < entry.envelope.timestamp) {
      return; // a replayed older message: the latest value stays
    }
    if (entry === undefined) {
      const row = element('tr', 'topic');
      row.dataset.topic = envelope.topic;
      const name = element('td', 'topic-name', envelope.topic);
      const value = element('td', 'value');
      const age = element('td', 'age');
      row.append(name, value, age);
      entry = { envelope, row, value, age };
      this.topics.set(envelope.topic, entry);
      insertSorted(byId('topics'), row, envelope.topic, (node) => node.dataset.topic ?? '');
      this.applyFilter(entry);
    }
    entry.envelope = envelope;
    entry.row.dataset.retained = String(envelope.retain);
    this.renderValue(entry);
    entry.age.textContent = formatAge(envelope.timestamp, Date.now());
    entry.row.classList.remove('fresh');
    void entry.row.offsetWidth; // restarts the highlight animation
    entry.row.classList.add('fresh');
    this.counts();
  }

  private renderValue(entry: TopicRow): void {
    const { envelope } = entry;
    const numbers = numericFields(envelope);
    entry.value.replaceChildren();
    if (numbers.size === 0) {
      entry.value.append(element('span', 'text', payloadText(envelope)));
      return;
    }
    for (const [field, value] of numbers) {
      const key = seriesKey(envelope.topic, field);
      const chip = element('button', 'number');
      chip.type = 'button';
      chip.dataset.series = key;
      chip.setAttribute('aria-pressed', String(this.charts.has(key)));
      chip.title = this.charts.has(key) ? 'Remove the chart' : 'Chart this value';
      if (field !== '') {
        chip.append(element('span', 'field', field));
      }
      chip.append(element('span', 'number-value', formatNumber(value)));
      chip.addEventListener('click', () => this.charts.toggle(key));
      entry.value.append(chip);
    }
    const other = Object.keys(typeof envelope.json === 'object' && envelope.json !== null
                                ? (envelope.json as object) : {}).length;
    if (other > numbers.size) {
      const text = element('span', 'text more', payloadText(envelope, 80));
      text.title = envelope.payload;
      entry.value.append(text);
    }
  }

  private applyFilter(entry: TopicRow): void {
    entry.row.hidden = this.filter !== '' && !entry.envelope.topic.toLowerCase().includes(this.filter);
  }

  // --- charts -------------------------------------------------------------------------------

  private chartsChanged(): void {
    const keys = this.charts.keys();
    try {
      window.localStorage.setItem(kChartsStorageKey, JSON.stringify(keys));
    } catch {
      // Storage can be off (private mode): the choice then lasts for this page only.
    }
    byId('charts-empty').hidden = keys.length > 0;
    for (const chip of document.querySelectorAll<HTMLElement>('button.number')) {
      const on = this.charts.has(chip.dataset.series ?? '');
      chip.setAttribute('aria-pressed', String(on));
      chip.title = on ? 'Remove the chart' : 'Chart this value';
    }
  }

  private savedCharts(): string[] {
    try {
      const saved = JSON.parse(window.localStorage.getItem(kChartsStorageKey) ?? '[]') as unknown;
      return Array.isArray(saved) ? saved.filter((key): key is string => typeof key === 'string')
                                  : [];
    } catch {
      return [];
    }
  }

  // --- every second -------------------------------------------------------------------------

  private tick(): void {
    const now = Date.now();
    for (const entry of this.topics.values()) {
      entry.age.textContent = formatAge(entry.envelope.timestamp, now);
    }
    for (const entry of this.devices.values()) {
      this.renderSeen(entry, now);
    }
  }

  private counts(): void {
    let online = 0;
    for (const entry of this.devices.values()) {
      online += entry.record.online ? 1 : 0;
    }
    byId('device-count').textContent = `${online} online / ${this.devices.size}`;
    byId('topic-count').textContent = String(this.topics.size);
    byId('devices-empty').hidden = this.devices.size > 0;
    byId('topics-empty').hidden = this.topics.size > 0;
  }
}

// The newest moment a presence record speaks of.
function stamp(record: PresenceRecord): number {
  return Math.max(record.connected_at, record.last_seen);
}

// Inserts `node` among `parent`'s children in `key` order.
function insertSorted(parent: HTMLElement, node: HTMLElement, key: string,
                      keyOf: (node: HTMLElement) => string): void {
  for (const child of parent.children) {
    if (keyOf(child as HTMLElement) > key) {
      parent.insertBefore(node, child);
      return;
    }
  }
  parent.append(node);
}

new Dashboard().start();
