import { redactUrl, scrubSecrets, urlSecrets } from '../../src/redact';

describe('redaction', () => {
  it('hides the password of a URL and keeps the rest', () => {
    expect(redactUrl('postgres://iot:s3cret@db:5432/iotflow')).toBe('postgres://iot:***@db:5432/iotflow');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactUrl('not a url with hunter2')).toBe('<unparsable url>');
  });

  it('finds a password in both its encoded and decoded forms', () => {
    expect(urlSecrets('mqtt://u:p%40ss%2Fw@broker')).toEqual(['p%40ss%2Fw', 'p@ss/w']);
    expect(urlSecrets('redis://:plain@h')).toEqual(['plain']);
    expect(urlSecrets('redis://h')).toEqual([]);
  });

  it('scrubs every occurrence of every secret', () => {
    expect(scrubSecrets('a p@ss/w b p%40ss%2Fw c p@ss/w', urlSecrets('mqtt://u:p%40ss%2Fw@broker'))).toBe('a *** b *** c ***');
  });
});
