/** The live page's connection to the exporter: credentials, the /stream WebSocket and its retries. */
namespace LivePage {
  const TOKEN_KEY = 'iotflow-metrics.token';
  const RETRY_MS = 5000;

  export interface ConnectionEvents {
    /** A source's collection arrived. */
    message(message: SourceMessage): void;
    /** The stream is gone (closed, refused or unreachable); it is retried. */
    lost(): void;
    /** Something went wrong that the page can only report. */
    problem(what: string): void;
  }

  /** The server's constants, which the page's HTML carries on <body>. */
  export interface StreamSettings {
    readonly subprotocol: string;
    readonly bearerPrefix: string;
  }

  function base64url(text: string): string {
    let binary = '';
    new TextEncoder().encode(text).forEach((byte) => (binary += String.fromCharCode(byte)));
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  export function errorText(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
  }

  /**
   * Opens the stream; when the server refuses it, a plain GET /stream says why (a refused WebSocket
   * does not: 401 asks for the token). Retries every RETRY_MS while the stream is down.
   */
  export class LiveConnection {
    private retryTimer?: number;
    private readonly badge = document.getElementById('connection')!;
    private readonly authForm = document.getElementById('auth') as HTMLFormElement;
    private readonly tokenInput = document.getElementById('token') as HTMLInputElement;
    private readonly authError = document.getElementById('auth-error')!;

    constructor(
      private readonly settings: StreamSettings,
      private readonly events: ConnectionEvents,
    ) {
      this.authForm.addEventListener('submit', (event) => {
        event.preventDefault();
        sessionStorage.setItem(TOKEN_KEY, this.tokenInput.value.trim());
        this.tokenInput.value = '';
        this.authForm.hidden = true;
        this.open();
      });
    }

    open(): void {
      this.setBadge('connecting', 'connecting');
      const protocols = [this.settings.subprotocol];
      if (this.token()) protocols.push(this.settings.bearerPrefix + base64url(this.token()));
      const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss://' : 'ws://'}${location.host}/stream`, protocols);
      let opened = false;
      socket.onopen = () => {
        opened = true;
        this.setBadge('live', 'live');
      };
      socket.onmessage = (event) => {
        const message = parseSourceMessage(event.data);
        if ('problem' in message) this.events.problem(`/stream sent ${message.problem}`);
        else this.events.message(message);
      };
      socket.onclose = () => {
        this.events.lost();
        if (opened) {
          this.setBadge('closed', 'disconnected, reconnecting');
          this.retryLater();
        } else {
          void this.diagnose();
        }
      };
    }

    /** Why the stream was refused: unreachable, a token to ask for, or the server's answer. */
    private async diagnose(): Promise<void> {
      let response: Response;
      try {
        response = await fetch('/stream', { headers: this.token() ? { Authorization: `Bearer ${this.token()}` } : {}, cache: 'no-store' });
      } catch {
        // Shown by the badge and the greyed cards; a browser says no more than "Failed to fetch".
        this.setBadge('closed', 'exporter unreachable');
        this.retryLater();
        return;
      }
      if (response.status === 401) {
        const refused = this.token() !== '';
        sessionStorage.removeItem(TOKEN_KEY);
        this.askForToken(refused);
        return;
      }
      // 426 is a plain GET's answer when the upgrade would be let through: the refusal has passed (a client cap, say).
      const body = response.status === 426 ? '' : await response.text().catch((error: unknown) => errorText(error));
      this.setBadge('refused', body ? `${response.status}: ${body.trim()}` : 'stream refused, retrying');
      this.retryLater();
    }

    private token(): string {
      return sessionStorage.getItem(TOKEN_KEY) ?? '';
    }

    private askForToken(refused: boolean): void {
      this.setBadge('refused', 'token required');
      this.authError.textContent = refused ? 'The token was refused (401). Enter it again.' : '';
      this.authForm.hidden = false;
      this.tokenInput.focus();
    }

    private setBadge(state: string, text: string): void {
      this.badge.dataset.state = state;
      this.badge.textContent = text;
    }

    private retryLater(): void {
      clearTimeout(this.retryTimer);
      this.retryTimer = window.setTimeout(() => this.open(), RETRY_MS);
    }
  }
}
