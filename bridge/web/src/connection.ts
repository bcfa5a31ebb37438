// The live stream from the bridge: an EventSource on /events that reconnects by itself and resumes
// from the last event id it saw, so that nothing kept in the history is missed.
import type { Envelope, PresenceRecord } from './values';

export type ConnectionState = 'connecting' | 'live' | 'disconnected' | 'reconnecting';

export interface StreamHandlers {
  onMessage(envelope: Envelope): void;
  onPresence(record: PresenceRecord): void;
  // The history no longer covers what was missed: current values must be fetched again.
  onGap(message: string): void;
  // The stream is (again) open: `resumed` when it continues from an earlier position.
  onOpen(resumed: boolean): void;
  onState(state: ConnectionState, detail: string): void;
}

// Waits between attempts: short first, for a quick restart, then at most 5 s.
const kBackoffMs = [500, 1000, 2000, 3000, 5000];

// Appends the page's own ?token= (a JWT for a bridge that needs one) to an API URL: a native
// EventSource cannot set an Authorization header. Basic credentials and cookies the browser
// sends by itself.
export function withToken(url: string): string {
  const token = new URLSearchParams(window.location.search).get('token');
  if (!token) {
    return url;
  }
  return `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
}

export class LiveStream {
  private source: EventSource | null = null;
  private lastEventId = '';
  private attempt = 0;
  private timer: number | undefined;
  private serverError = '';

  constructor(private readonly filters: string[], private readonly handlers: StreamHandlers) {
    // Back online (or the tab woke up): try now instead of waiting out the backoff.
    window.addEventListener('online', () => this.retryNow());
  }

  start(): void {
    this.open();
  }

  // Reconnects now when disconnected.
  retryNow(): void {
    if (this.source === null && this.timer !== undefined) {
      window.clearTimeout(this.timer);
      this.timer = undefined;
      this.open();
    }
  }

  private url(): string {
    const params = new URLSearchParams();
    for (const filter of this.filters) {
      params.append('topic', filter);
    }
    params.set('presence', '1');
    // A new EventSource sends no Last-Event-ID header: the parameter carries it.
    if (this.lastEventId !== '') {
      params.set('last_event_id', this.lastEventId);
    }
    return withToken(`events?${params.toString()}`);
  }

  private open(): void {
    const resumed = this.lastEventId !== '';
    this.handlers.onState(this.attempt === 0 && !resumed ? 'connecting' : 'reconnecting',
                          this.attempt === 0 ? '' : `attempt ${this.attempt + 1}`);
    const source = new EventSource(this.url());
    this.source = source;
    source.onopen = () => {
      this.attempt = 0;
      this.serverError = '';
      this.handlers.onState('live', '');
      this.handlers.onOpen(resumed);
    };
    source.onmessage = (event: MessageEvent<string>) => {
      this.track(event);
      this.handlers.onMessage(JSON.parse(event.data) as Envelope);
    };
    source.addEventListener('presence', (event) => {
      this.handlers.onPresence(JSON.parse((event as MessageEvent<string>).data) as PresenceRecord);
    });
    source.addEventListener('gap', (event) => {
      const data = JSON.parse((event as MessageEvent<string>).data) as { message?: string };
      this.handlers.onGap(data.message ?? 'some messages were missed');
    });
    source.onerror = (event: Event) => {
      if (event instanceof MessageEvent && typeof event.data === 'string') {
        // The server's own "error" event (a slow consumer is cut off): the close follows.
        try {
          this.serverError = (JSON.parse(event.data) as { message?: string }).message ?? '';
        } catch {
          this.serverError = event.data;
        }
        return;
      }
      if (source !== this.source) {
        return;
      }
      this.scheduleRetry();
    };
  }

  private track(event: MessageEvent<string>): void {
    if (event.lastEventId !== '') {
      this.lastEventId = event.lastEventId;
    }
  }

  // The browser's own retry would send Last-Event-ID too, but gives no way to tell "waiting" from
  // "trying" and stops for good after an HTTP error: the page retries itself.
  private scheduleRetry(): void {
    this.source?.close();
    this.source = null;
    const delay = kBackoffMs[Math.min(this.attempt, kBackoffMs.length - 1)];
    this.attempt += 1;
    const why = this.serverError !== '' ? `${this.serverError}; ` : '';
    this.handlers.onState('disconnected', `${why}retrying in ${Math.ceil(delay / 1000)} s`);
    this.timer = window.setTimeout(() => {
      this.timer = undefined;
      this.open();
    }, delay);
  }
}
