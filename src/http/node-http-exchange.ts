import { type IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { bodyBytes, REPLY_HEADERS, type ResponseChannel } from './exchange';
import { declaredHeaders } from './route-plan';
import { type HttpReply, type HttpRequest, parameterNames, type Route } from './route-table';

/** The part of a route that says what to copy out of node's request. */
type RequestShape = Pick<Route, 'path' | 'headers' | 'readsPeerAddress'>;

/**
 * A node:http response as an Exchange writes it. Node keeps a Buffer body by reference (no copy)
 * until the socket took it all, so the body is given back on `finish`, or when the client leaves.
 */
export class NodeResponse implements ResponseChannel {
  constructor(private readonly res: ServerResponse) {}

  onAborted(aborted: () => void): void {
    // 'close' comes after a finished response too; only one that did not finish was aborted.
    this.res.once('close', () => {
      if (!this.res.writableFinished) aborted();
    });
  }

  later(write: () => void): void {
    write();
  }

  destroy(): void {
    this.res.destroy();
  }

  write(reply: HttpReply, head: boolean, drained: () => void): boolean {
    const res = this.res;
    res.writeHead(reply.status, { ...REPLY_HEADERS, ...reply.headers, 'Content-Length': String(bodyBytes(reply.body)) });
    if (head) {
      res.end();
      return true;
    }
    // A string is encoded into node's own buffer at once: nothing of it is held.
    if (typeof reply.body === 'string') {
      res.end(reply.body);
      return true;
    }
    // The stream holds the Buffer until the kernel took its last byte; it takes more only as the client reads.
    res.end(reply.body, drained);
    return false;
  }
}

/** Copies what a route's handler reads out of node's request; `parameters` are the pattern's `:name` values. */
export function nodeRequestReader(route: RequestShape): (req: IncomingMessage, method: string, parameters: readonly string[]) => HttpRequest {
  const names = parameterNames(route.path);
  const headerNames: ReadonlySet<string> = new Set(route.headers ?? []);
  const peerAddress = route.readsPeerAddress === true;
  return (req, method, parameters) => {
    const params: Record<string, string> = {};
    names.forEach((name, index) => (params[name] = parameters[index] ?? ''));
    const { path, query } = splitUrl(req.url ?? '/');
    const raw = req.rawHeaders;
    return {
      method,
      path,
      query,
      params,
      headers: declaredHeaders(headerNames, (visit) => {
        for (let i = 0; i + 1 < raw.length; i += 2) visit(raw[i]!.toLowerCase(), raw[i + 1]!);
      }),
      remoteAddress: peerAddress ? (req.socket.remoteAddress ?? '') : '',
    };
  };
}

/** A request target's path and its query string without the `?`. */
export function splitUrl(url: string): { path: string; query: string } {
  const mark = url.indexOf('?');
  return mark < 0 ? { path: url, query: '' } : { path: url.slice(0, mark), query: url.slice(mark + 1) };
}

/**
 * A response written straight to an upgrade request's socket (node hands such requests over
 * without one): a refused upgrade, or a request with an Upgrade header to a plain route. The
 * connection closes after it.
 */
export function responseOnSocket(req: IncomingMessage, socket: Duplex): ServerResponse {
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Parameters<ServerResponse['assignSocket']>[0]);
  res.once('finish', () => {
    res.detachSocket(socket as Parameters<ServerResponse['detachSocket']>[0]);
    socket.end();
  });
  return res;
}
