import { redactUrl, scrubSecrets, urlSecrets } from '../../src/redact';

describe('redaction', () => {
  it('hides the password of a URL and keeps the rest', () => {
    expect(redactUrl('postgres://iot:s3cret@db:5432/iotflow')).toBe('postgres://iot:***@db:5432/iotflow');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactUrl('not a url with hunter2')).toBe('<unparsable url>');
  });

  it('case 1: hides the value of every query parameter (and the fragment), naming the parameters', () => {
    expect(redactUrl('postgres://postgres@127.0.0.1:5499/x?password=pw1&sslmode=require')).toBe('postgres://postgres@127.0.0.1:5499/x?password=***&sslmode=***');
    expect(redactUrl('redis://127.0.0.1:6390/0?password=p%40w')).toBe('redis://127.0.0.1:6390/0?password=***');
    expect(redactUrl('mqtt://u:pw@broker:1883?clientId=c1&flag#frag')).toBe('mqtt://u:***@broker:1883?clientId=***&flag#***');
    expect(redactUrl('postgres://u:p;w@h/x?password=a b"c&=orphan')).toBe('postgres://u:***@h/x?password=***&=***');
  });

  it('finds a password in both its encoded and decoded forms', () => {
    expect(urlSecrets('mqtt://u:p%40ss%2Fw@broker')).toEqual(['p%40ss%2Fw', 'p@ss/w']);
    expect(urlSecrets('redis://:plain@h')).toEqual(['plain']);
    expect(urlSecrets('redis://h')).toEqual([]);
  });

  it('case 1: knows every form of every query value: as written, as the URL parser encodes it, and decoded', () => {
    // pg and ioredis decode `+` to a space in the query, decodeURIComponent does not: both forms count.
    expect(urlSecrets('redis://127.0.0.1:6390/0?password=a%2Bb+c%20d')).toEqual(expect.arrayContaining(['a%2Bb+c%20d', 'a+b c d', 'a+b+c d']));
    // Written raw, the URL parser percent-encodes these characters; a driver may print either form.
    const raw = 'postgres://u:p;w@h/x?password=a b"c&sslmode=require#frag';
    expect(urlSecrets(raw)).toEqual(expect.arrayContaining(['p;w', 'p%3Bw', 'a b"c', 'a%20b%22c', 'require', 'frag']));
    expect(urlSecrets('postgres://h/x?password=100%')).toEqual(['100%']);
    expect(urlSecrets('postgres://u@h/x?flag&password=')).toEqual([]);
  });

  it('scrubs every occurrence of every secret', () => {
    expect(scrubSecrets('a p@ss/w b p%40ss%2Fw c p@ss/w', urlSecrets('mqtt://u:p%40ss%2Fw@broker'))).toBe('a *** b *** c ***');
    expect(scrubSecrets('at redis://:pw@h:1/0?password=pw', ['pw'])).toBe('at redis://:***@h:1/0?password=***');
  });

  it('case 1: scrubs a secret that begins or ends with a letter or digit only where it is not part of a longer word', () => {
    // Query values such as db=0 or sslmode=require must not mangle every number and word of a message.
    expect(scrubSecrets('timed out after 5000 ms on db 0', ['0'])).toBe('timed out after 5000 ms on db ***');
    expect(scrubSecrets('sslmode require: required', ['require'])).toBe('sslmode ***: required');
    // An edge that is not a letter or digit is scrubbed wherever it stands.
    expect(scrubSecrets('x@pw!y', ['@pw!'])).toBe('x***y');
  });
});
