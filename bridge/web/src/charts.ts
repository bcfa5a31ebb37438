// Live uPlot charts, one per chosen series (a topic, or a numeric JSON field of one), backfilled
// from GET /api/history and extended by live messages.
import uPlot from 'uplot';

import { withToken } from './connection';
import { type Envelope, formatNumber, parseSeriesKey, seriesValue } from './values';

// Points kept per chart: the oldest go first.
const kMaxPoints = 2000;
// Entries asked from the history when a chart opens.
const kHistoryLimit = 500;
const kColors = ['#2f7ed8', '#d9534f', '#3a9d5d', '#e08a1e', '#8e5bc9', '#1aa3a3'];

interface Point {
  t: number; // seconds (uPlot's time scale)
  v: number;
  id: string; // the message position, to drop a point seen twice (history and live)
}

class Chart {
  readonly card: HTMLElement;
  private readonly plotBox: HTMLElement;
  private readonly latest: HTMLElement;
  private readonly status: HTMLElement;
  private points: Point[] = [];
  private readonly ids = new Set<string>();
  private plot: uPlot | null = null;
  private dirty = false;
  private readonly resize: ResizeObserver;

  constructor(readonly key: string, color: string, onRemove: () => void) {
    this.card = document.createElement('article');
    this.card.className = 'chart';
    this.card.dataset.series = key;
    const head = document.createElement('header');
    const title = document.createElement('h3');
    title.textContent = key;
    title.title = key;
    this.latest = document.createElement('span');
    this.latest.className = 'latest';
    const close = document.createElement('button');
    close.className = 'close';
    close.type = 'button';
    close.textContent = '×';
    close.title = 'Remove this chart';
    close.setAttribute('aria-label', `Remove the chart of ${key}`);
    close.addEventListener('click', onRemove);
    head.append(title, this.latest, close);
    this.plotBox = document.createElement('div');
    this.plotBox.className = 'plot';
    this.status = document.createElement('p');
    this.status.className = 'chart-status';
    this.card.append(head, this.plotBox, this.status);
    this.resize = new ResizeObserver(() => this.fit());
    this.resize.observe(this.plotBox);
    this.plot = new uPlot(this.options(color), [[], []], this.plotBox);
    this.update();
  }

  private options(color: string): uPlot.Options {
    return {
      width: Math.max(this.plotBox.clientWidth, 200),
      height: 180,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      series: [{}, { label: this.key, stroke: color, width: 2, points: { size: 5 } }],
      axes: [{ stroke: '#7a8699' }, { stroke: '#7a8699', size: 56 }],
    };
  }

  private fit(): void {
    const width = this.plotBox.clientWidth;
    if (this.plot && width > 0 && width !== this.plot.width) {
      this.plot.setSize({ width, height: 180 });
    }
  }

  // Adds a point in time order; a position already charted is ignored.
  add(point: Point): void {
    if (point.id !== '' && this.ids.has(point.id)) {
      return;
    }
    if (point.id !== '') {
      this.ids.add(point.id);
    }
    let at = this.points.length;
    while (at > 0 && this.points[at - 1].t > point.t) {
      at -= 1;
    }
    this.points.splice(at, 0, point);
    if (this.points.length > kMaxPoints) {
      for (const old of this.points.splice(0, this.points.length - kMaxPoints)) {
        this.ids.delete(old.id);
      }
    }
    this.dirty = true;
  }

  setStatus(text: string): void {
    this.status.textContent = text;
  }

  // Redraws when points were added (called once per animation frame).
  update(): void {
    if (!this.dirty && this.points.length > 0) {
      return;
    }
    this.dirty = false;
    const xs = this.points.map((p) => p.t);
    const ys = this.points.map((p) => p.v);
    this.plot?.setData([xs, ys]);
    if (xs.length === 1) {
      // One point alone would stretch the time axis over years: show a minute around it.
      this.plot?.setScale('x', { min: xs[0] - 60, max: xs[0] + 60 });
    }
    const last = this.points[this.points.length - 1];
    this.latest.textContent = last ? formatNumber(last.v) : '–';
    this.card.dataset.points = String(this.points.length);
    this.card.dataset.last = last ? String(last.v) : '';
  }

  destroy(): void {
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = null;
    this.card.remove();
  }
}

export class Charts {
  private readonly charts = new Map<string, Chart>();
  private frame = 0;
  private colorIndex = 0;

  constructor(private readonly box: HTMLElement, private readonly onChange: () => void) {}

  has(key: string): boolean {
    return this.charts.has(key);
  }

  keys(): string[] {
    return [...this.charts.keys()];
  }

  toggle(key: string): void {
    if (this.charts.has(key)) {
      this.remove(key);
    } else {
      this.add(key);
    }
  }

  add(key: string): void {
    if (this.charts.has(key)) {
      return;
    }
    const color = kColors[this.colorIndex++ % kColors.length];
    const chart = new Chart(key, color, () => this.remove(key));
    this.charts.set(key, chart);
    this.box.append(chart.card);
    void this.backfill(chart);
    this.onChange();
  }

  remove(key: string): void {
    this.charts.get(key)?.destroy();
    this.charts.delete(key);
    this.onChange();
  }

  // A live (or replayed) message: a point on each chart of its topic.
  message(envelope: Envelope): void {
    for (const chart of this.charts.values()) {
      const { topic, field } = parseSeriesKey(chart.key);
      if (topic !== envelope.topic) {
        continue;
      }
      const value = seriesValue(envelope, field);
      if (value !== undefined) {
        chart.add({ t: envelope.timestamp / 1000, v: value, id: envelope.id ?? '' });
        this.schedule();
      }
    }
  }

  // Fills every chart again from the history (after a gap).
  refetch(): void {
    for (const chart of this.charts.values()) {
      void this.backfill(chart);
    }
  }

  private async backfill(chart: Chart): Promise<void> {
    const { topic, field } = parseSeriesKey(chart.key);
    const url = `api/history?topic=${encodeURIComponent(topic)}&limit=${kHistoryLimit}`;
    try {
      const response = await fetch(withToken(url), { headers: { Accept: 'application/json' } });
      if (!response.ok) {
        const body = (await response.json().catch(() => ({}))) as { message?: string };
        chart.setStatus(`No history: ${body.message ?? response.statusText}. Live values only.`);
        return;
      }
      for (const envelope of (await response.json()) as Envelope[]) {
        const value = seriesValue(envelope, field);
        if (value !== undefined) {
          chart.add({ t: envelope.timestamp / 1000, v: value, id: envelope.id ?? '' });
        }
      }
      chart.setStatus('');
      this.schedule();
    } catch (error) {
      chart.setStatus(`History unavailable (${String(error)}). Live values only.`);
    }
  }

  private schedule(): void {
    if (this.frame === 0) {
      this.frame = window.requestAnimationFrame(() => {
        this.frame = 0;
        for (const chart of this.charts.values()) {
          chart.update();
        }
      });
    }
  }
}
