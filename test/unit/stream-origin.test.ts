import { normalizeOrigin, originRefusal, parseAllowedOrigins } from '../../src/live/stream-origin';

describe('which web pages may open /stream', () => {
  const plain = { host: '127.0.0.1:5830', tls: false };

  it('lets in a client that sends no Origin: Prometheus, scripts, anything but a browser page', () => {
    expect(originRefusal({ ...plain, origin: '' }, [])).toBeUndefined();
    expect(originRefusal({ origin: '', host: '', tls: true }, [])).toBeUndefined();
  });

  it("lets in the exporter's own page: the scheme it speaks and the Host the request was sent to", () => {
    expect(originRefusal({ ...plain, origin: 'http://127.0.0.1:5830' }, [])).toBeUndefined();
    expect(originRefusal({ origin: 'https://Metrics.Example.com', host: 'metrics.example.com:443', tls: true }, [])).toBeUndefined();
    expect(originRefusal({ origin: 'http://[::1]:5830', host: '[::1]:5830', tls: false }, [])).toBeUndefined();
  });

  it('refuses a page of another site, another port or another scheme, saying which origin and why', () => {
    expect(originRefusal({ ...plain, origin: 'http://evil.example' }, [])).toBe(
      'origin "http://evil.example" may not read this stream: it is neither the exporter\'s own (http://127.0.0.1:5830) nor in STREAM_ALLOWED_ORIGINS',
    );
    expect(originRefusal({ ...plain, origin: 'http://127.0.0.1:8080' }, [])).toContain('may not read this stream');
    expect(originRefusal({ ...plain, origin: 'https://127.0.0.1:5830' }, [])).toContain('may not read this stream');
    expect(originRefusal({ ...plain, tls: true, origin: 'http://127.0.0.1:5830' }, [])).toContain('(https://127.0.0.1:5830)');
  });

  it('refuses what is no origin at all: "null" (sandboxed frames, file: pages), a path, a missing or bogus Host', () => {
    expect(originRefusal({ ...plain, origin: 'null' }, [])).toContain('"null"');
    expect(originRefusal({ ...plain, origin: 'http://127.0.0.1:5830/page' }, [])).toBeDefined();
    expect(originRefusal({ origin: 'http://127.0.0.1:5830', host: '', tls: false }, [])).toContain('(no valid Host header)');
    expect(originRefusal({ origin: 'http://127.0.0.1:5830', host: 'a/b', tls: false }, [])).toContain('(no valid Host header)');
    expect(originRefusal({ ...plain, origin: 'x'.repeat(5000) }, [])!.length).toBeLessThan(400);
  });

  it('lets in the origins of STREAM_ALLOWED_ORIGINS, compared as browsers serialize them', () => {
    const allowed = parseAllowedOrigins(['https://Dashboard.example.com:443', 'http://10.0.0.5:3000']) as string[];
    expect(allowed).toEqual(['https://dashboard.example.com', 'http://10.0.0.5:3000']);
    expect(originRefusal({ ...plain, origin: 'https://dashboard.example.com' }, allowed)).toBeUndefined();
    expect(originRefusal({ ...plain, origin: 'http://10.0.0.5:3000' }, allowed)).toBeUndefined();
    expect(originRefusal({ ...plain, origin: 'http://dashboard.example.com' }, allowed)).toBeDefined();
  });

  it.each(['dashboard.example.com', 'ftp://example.com', 'https://example.com/path', 'https://user@example.com', 'https://example.com?q', '*', 'null', 'https://exa mple.com'])(
    'takes %j for no origin',
    (entry) => {
      expect(normalizeOrigin(entry)).toBeUndefined();
      expect(parseAllowedOrigins(['https://ok.example', entry])).toEqual({ invalid: entry });
    },
  );
});
