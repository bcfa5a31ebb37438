// What the dashboard reads out of a message envelope: numeric values to chart, and display text.

// The bridge's message envelope (bridge/envelope.hpp).
export interface Envelope {
  topic: string;
  payload: string;
  json?: unknown;
  encoding?: 'base64';
  qos: number;
  retain: boolean;
  timestamp: number; // Unix milliseconds
  id?: string; // "<epoch>-<seq>"
}

// One client's presence (GET /api/presence, "presence" events).
export interface PresenceRecord {
  client_id: string;
  online: boolean;
  connected_at: number;
  last_seen: number;
  peer: string;
  protocol: string;
  reason?: string;
}

// Nested JSON objects are flattened to dotted paths this deep at most.
const kMaxDepth = 3;

// The numbers in a payload: "" for a payload that is a number itself, else JSON field paths
// ("temp", "sensor.humidity"). Arrays, strings and booleans are not charted.
export function numericFields(envelope: Envelope): Map<string, number> {
  const out = new Map<string, number>();
  if (envelope.encoding === 'base64' || envelope.json === undefined) {
    return out;
  }
  collect(envelope.json, '', 0, out);
  return out;
}

function collect(value: unknown, path: string, depth: number, out: Map<string, number>): void {
  if (typeof value === 'number' && Number.isFinite(value)) {
    out.set(path, value);
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value) &&
             depth < kMaxDepth) {
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      collect(inner, path === '' ? key : `${path}.${key}`, depth + 1, out);
    }
  }
}

// A chart series: a topic, or a topic and a JSON field. '#' cannot appear in a topic name, so
// "topic#field" is unambiguous.
export function seriesKey(topic: string, field: string): string {
  return field === '' ? topic : `${topic}#${field}`;
}

export function parseSeriesKey(key: string): { topic: string; field: string } {
  const hash = key.indexOf('#');
  return hash < 0 ? { topic: key, field: '' }
                  : { topic: key.slice(0, hash), field: key.slice(hash + 1) };
}

// The value of one series in an envelope, undefined when it has none.
export function seriesValue(envelope: Envelope, field: string): number | undefined {
  return numericFields(envelope).get(field);
}

// "now", "12s", "3m 04s", "5h 02m", "3d 4h": how long ago `timestampMs` was.
export function formatAge(timestampMs: number, nowMs: number): string {
  const seconds = Math.max(0, Math.floor((nowMs - timestampMs) / 1000));
  if (seconds < 1) {
    return 'now';
  }
  if (seconds < 60) {
    return `${seconds}s`;
  }
  const pad = (n: number) => String(n).padStart(2, '0');
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)}m ${pad(seconds % 60)}s`;
  }
  if (seconds < 86400) {
    return `${Math.floor(seconds / 3600)}h ${pad(Math.floor(seconds / 60) % 60)}m`;
  }
  return `${Math.floor(seconds / 86400)}d ${Math.floor(seconds / 3600) % 24}h`;
}

// Numbers as sent, without float noise ("0.30000000000000004" → "0.3").
export function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(10)));
}

// Bounded display text of a payload.
export function payloadText(envelope: Envelope, max = 160): string {
  if (envelope.encoding === 'base64') {
    const bytes = Math.floor((envelope.payload.replace(/=+$/, '').length * 3) / 4);
    return `(${bytes} bytes, binary)`;
  }
  const text = envelope.payload;
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
